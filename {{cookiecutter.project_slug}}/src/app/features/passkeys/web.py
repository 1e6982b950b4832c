"""The HTTP side shared by the passkey routes and pages: the service instance and the browser binding."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from litestar import Request
from litestar.di import NamedDependency

from app.auth.service import AuthService
from app.features.passkeys.service import Passkeys
from app.features.passkeys.settings import relying_party

_instances: WeakKeyDictionary[AuthService, Passkeys] = WeakKeyDictionary()


def provide_passkeys(request: Request[Any, Any, Any]) -> Passkeys:
    """Dependency: the app's passkey service (the relying party is read from settings once)."""
    auth: AuthService = request.app.state.auth
    service = _instances.get(auth)
    if service is None:
        service = _instances[auth] = Passkeys(auth, relying_party(auth.settings))
    return service


PasskeyService = NamedDependency[Passkeys]


def binding_cookie(request: Request[Any, Any, Any], passkeys: Passkeys) -> str | None:
    """The browser's challenge-binding token, if it has one."""
    return request.cookies.get(passkeys.challenges.cookie_name)
