"""The HTTP side shared by the passkey routes and pages: the service instance and the browser binding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from app.auth import AuthKit
from app.core.errors import AppError
from app.core.openapi import raises
from app.features.passkeys.service import Passkeys, count_passkeys
from app.features.passkeys.settings import relying_party
from app.settings import Settings


class PasskeysMisconfigured(AppError):
    code = "PASSKEYS_NOT_CONFIGURED"
    status_code = 503
    default_message = "Passkeys are not available: the server's PASSKEYS_* settings are not valid."


STATE_KEY = "passkeys"


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state; or, when PASSKEYS_* do not describe a relying party
    (a development server on an IP address, where browsers make no passkeys), the reason."""
    kit.count_sign_in_methods_with(count_passkeys)
    try:
        return {STATE_KEY: Passkeys(kit, relying_party(settings))}
    except ValueError as error:  # reported at start-up too, except on a development IP address
        return {STATE_KEY: PasskeysMisconfigured(f"Passkeys are not available: {error}")}


@raises(PasskeysMisconfigured)
def provide_passkeys(request: Request[Any, Any, Any]) -> Passkeys:
    """Dependency: the app's passkey service; 503 with the reason when passkeys cannot work here."""
    service: Passkeys | PasskeysMisconfigured = request.app.state[STATE_KEY]
    if isinstance(service, PasskeysMisconfigured):
        raise service
    return service


PasskeyService = NamedDependency[Passkeys]


def binding_cookie(request: Request[Any, Any, Any], passkeys: Passkeys) -> str | None:
    """The browser's challenge-binding token, if it has one."""
    return request.cookies.get(passkeys.challenges.cookie_name)
