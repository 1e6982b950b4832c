"""The HTTP side of the console: its service, the guard every admin route has, and the acting admin.

`console(permission)` gives a route its options: the guard, the console's rate limit and the
permission (also in the handler's `opt`, where the tests read it from the route table). The guard
reads the caller's role from the database (not from a session snapshot that may be older than
a demotion). Anyone whose role holds no admin permission, signed in or not, gets the answer any
unknown path gets: 404 with the same body, so the console's existence is not revealed. A console
user whose role lacks the route's permission gets 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import HttpMethod, Request, route
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.types import Guard
from sqlmodel import select

from app.auth import AuthKit, Principal, User
from app.core.openapi import raises
from app.features.admin import access
from app.features.admin.errors import NotAllowed
from app.features.admin.service import Actor, Admin
from app.features.base import provider

STATE_KEY = "admin"
RATE_LIMIT_RULE = "admin"
_ACTOR_KEY = "admin_actor"
service_for = provider(STATE_KEY, Admin)


def provide_admin(request: Request[Any, Any, Any]) -> Admin:
    """Dependency `admin`."""
    return service_for(request.app)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """Dependency `actor`: the admin the route's guard checked."""
    actor: Actor | None = request.state.get(_ACTOR_KEY)
    if actor is None:  # a route that asks for `actor` without the guard: a programming error
        raise RuntimeError("this route needs **console(...)")
    return actor


async def _role(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> str | None:
    async with connection.app.state.db.sessions() as db:
        role: str | None = (await db.exec(select(User.role).where(User.id == principal.user_id))).first()
    return role


def requires_permission(permission: str) -> Guard:
    """A guard: 404 to anyone outside the console, 403 to a console user without `permission`."""
    access.parse_permission(permission)  # a typo fails at import, not at request time

    @raises(NotAllowed)
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal | None = connection.scope.get("user")
        role = await _role(connection, principal) if principal is not None else None
        if principal is None or not access.is_console_user(role):
            raise NotFoundException()
        if not access.can(role, permission):
            raise NotAllowed()
        connection.state[_ACTOR_KEY] = Actor(principal.user_id, role or "")

    return guard


def require_fresh(request: Request[Any, Any, Any], user: Principal) -> None:
    """The JSON routes' check before a change: a fresh session no feature refuses (403 otherwise)."""
    kit: AuthKit = request.app.state.auth
    kit.require_fresh(user)


def console(permission: str, *extra_guards: Guard) -> dict[str, Any]:
    """Route options of a console handler: `@post(path, **console("user:ban"))`."""
    return {
        "guards": [requires_permission(permission), *extra_guards],
        "opt": {"permission": permission, "rate_limit": RATE_LIMIT_RULE, "admin": True},
    }


EVERY_METHOD = frozenset(HttpMethod)


async def _no_such_path() -> None:
    raise NotFoundException()


def other_methods(handlers: Sequence[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """Handlers that answer every other method of the console's paths as an unknown path is answered.

    Litestar would answer 405 with an Allow header (and OPTIONS 204): a hint, to anyone, that the
    path exists. These say 404 with the unknown path's body instead, to everyone.
    """
    taken: dict[str, set[str]] = {}
    for handler in handlers:
        for path in handler.paths:
            taken.setdefault(path, set()).update(handler.http_methods)
    return [
        route(path, http_method=sorted(EVERY_METHOD - methods), opt={"hidden": True}, include_in_schema=False)(
            _no_such_path
        )
        for path, methods in taken.items()
    ]
