"""The HTTP side shared by the passkey routes and pages: the service instance and the browser binding."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from litestar import Request
from litestar.di import NamedDependency

from app.auth.kit import AuthKit
from app.core.errors import AppError
from app.core.openapi import raises
from app.features.passkeys.service import Passkeys
from app.features.passkeys.settings import relying_party


class PasskeysMisconfigured(AppError):
    code = "PASSKEYS_NOT_CONFIGURED"
    status_code = 503
    default_message = "Passkeys are not available: the server's PASSKEYS_* settings are not valid."


_instances: WeakKeyDictionary[AuthKit, Passkeys] = WeakKeyDictionary()


@raises(PasskeysMisconfigured)
def provide_passkeys(request: Request[Any, Any, Any]) -> Passkeys:
    """Dependency: the app's passkey service (the relying party is read from settings once)."""
    auth: AuthKit = request.app.state.auth
    service = _instances.get(auth)
    if service is None:
        try:
            party = relying_party(auth.settings)
        except ValueError as error:  # reported at start-up too (`check_settings`); never a bare 500
            raise PasskeysMisconfigured(f"Passkeys are not available: {error}") from error
        service = _instances[auth] = Passkeys(auth, party)
    return service


PasskeyService = NamedDependency[Passkeys]


def binding_cookie(request: Request[Any, Any, Any], passkeys: Passkeys) -> str | None:
    """The browser's challenge-binding token, if it has one."""
    return request.cookies.get(passkeys.challenges.cookie_name)
