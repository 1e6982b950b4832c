"""The HTTP side of organizations: the app's services, `requires_permission`, and the caller's membership.

`requires_permission("member:update")` is a route guard. It finds the organization a request
is about (the `org_id` path parameter, else `organizationId` or `organizationSlug` in the query
or JSON body, else the organization of the `invitationId` it names, else the session's active
organization) and
refuses with 404 when the caller is not a member (an outsider learns nothing) and 403 when
their role lacks the permission. The membership it checked is the `caller` dependency.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Guard, Message, Receive, Scope, Send
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import Principal
from app.core.errors import Unauthorized
from app.core.openapi import raises
from app.core.security import SAFE_METHODS
from app.features.base import provider
from app.features.organizations import access
from app.features.organizations.errors import NotPermitted, OrganizationNotFound
from app.features.organizations.invitations import Invitations
from app.features.organizations.service import Access, Organizations

_ACCESS_KEY = "organization_access"
ORG_PARAM = "org_id"


STATE_KEY = "organizations"
service_for = provider(STATE_KEY, Organizations)


def provide_organizations(request: Request[Any, Any, Any]) -> Organizations:
    """Dependency `orgs`."""
    return service_for(request.app)


def provide_invitations(request: Request[Any, Any, Any]) -> Invitations:
    """Dependency `invitations`."""
    return Invitations(service_for(request.app))


def provide_access(request: Request[Any, Any, Any]) -> Access:
    """Dependency `caller`: the membership checked by the route's `requires_permission` guard."""
    caller: Access | None = request.state.get(_ACCESS_KEY)
    if caller is None:  # a route that asks for `caller` without the guard: a programming error
        raise RuntimeError("this route needs guards=[requires_permission(...)]")
    return caller


def _uuid(raw: object) -> uuid.UUID:
    try:
        return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
    except ValueError:
        raise OrganizationNotFound() from None


async def _named(connection: ASGIConnection[Any, Any, Any, Any], name: str) -> object:
    """A value the request names in its query string or its JSON body."""
    if name in connection.query_params:
        return connection.query_params[name]
    json_body = connection.headers.get("content-type", "").startswith("application/json")
    if isinstance(connection, Request) and connection.method == "POST" and json_body:
        try:
            body = await connection.json()
        except Exception:  # a malformed body is the handler's 400, not the guard's
            return None
        if isinstance(body, dict):
            return body.get(name)
    return None


async def organization_in(
    connection: ASGIConnection[Any, Any, Any, Any], db: AsyncSession, principal: Principal
) -> uuid.UUID | None:
    """The organization a request is about (see the module's docstring)."""
    if ORG_PARAM in connection.path_params:
        return _uuid(connection.path_params[ORG_PARAM])
    if named := await _named(connection, "organizationId"):
        return _uuid(named)
    if slug := await _named(connection, "organizationSlug"):
        org = await service_for(connection.app).by_slug(db, str(slug))
        if org is None:
            raise OrganizationNotFound()
        return org.id
    if invitation := await _named(connection, "invitationId"):
        found = await Invitations(service_for(connection.app)).organization_of(db, _uuid(invitation))
        if found is None:
            raise OrganizationNotFound()
        return found
    return await service_for(connection.app).active_id(db, principal.session_id)


def requires_permission(permission: str | None) -> Guard:
    """A guard: the caller is a member of the organization concerned, whose role allows `permission`.

    `None` asks for membership only (reading members, leaving ...).
    """
    if permission is not None:
        access.parse_permission(permission)  # a typo fails at import, not at request time

    @raises(Unauthorized, OrganizationNotFound, NotPermitted)
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal | None = connection.scope.get("user")
        if principal is None:
            raise Unauthorized()
        orgs = service_for(connection.app)
        async with connection.app.state.db.sessions() as db:
            organization_id = await organization_in(connection, db, principal)
            connection.state[_ACCESS_KEY] = await orgs.authorize(db, principal.user_id, organization_id, permission)

    return guard


def scoped(permission: str | None = None) -> dict[str, Any]:
    """Route options of an organization-scoped handler: `@post(path, **scoped("member:update"))`.

    The permission is also written into the handler's `opt`, where tests read it from the route table.
    """
    return {"guards": [requires_permission(permission)], "opt": {"permission": permission}}


def drop_session_snapshot(app: ASGIApp) -> ASGIApp:
    """Router middleware: an unsafe request of a cookie session drops that browser's session snapshot.

    With the cookie cache on, get-session's `activeOrganizationId` is kept with the snapshot (see
    `SessionField`). A request that may change it (creating, switching, leaving,
    accepting an invitation ...) expires the cache cookie, so the browser's next request reads its
    session, and its active organization, again: as Better Auth re-sets its cache cookie.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        sessions = scope["litestar_app"].state.auth.sessions
        if scope.get("method") in SAFE_METHODS or scope.get("auth") != "cookie" or not sessions.auth.cookie_cache:
            await app(scope, receive, send)
            return
        expired = sessions.clear_cache_cookie().to_encoded_header()

        async def send_dropping(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), expired]
            await send(message)

        await app(scope, receive, send_dropping)

    return middleware
