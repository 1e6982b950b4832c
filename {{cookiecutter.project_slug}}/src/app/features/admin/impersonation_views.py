"""Impersonation over HTTP: Better Auth's `impersonate-user` / `stop-impersonating`, and the pages' forms.

Starting is a console action (permission user:impersonate, a fresh session). Stopping is asked
by the impersonation session, which is the user's, not an admin's: its guard lets through only a
session that is one, and answers everyone else what an unknown path gets. The browser's own
admin session comes back from the `admin_session` cookie it was kept in (see
app.features.admin.impersonation); a client that sent a bearer token still holds its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody

from app.auth import DB, AuthKit, CurrentUser, Principal, User, request_meta, user_json, wants_token
from app.core.errors import AppError, SessionNotFresh
from app.core.openapi import raises
from app.core.ui import redirect
from app.features.admin import impersonation, schemas
from app.features.admin.errors import CannotImpersonate, CannotImpersonateAdmins, UserNotFound
from app.features.admin.service import Actor, Admin
from app.features.admin.views import fresh_here, render_user_page, user_path
from app.features.admin.web import RATE_LIMIT_RULE, console, other_methods, provide_actor, provide_admin

Service = NamedDependency[Admin]
Acting = NamedDependency[Actor]
STOP_PATH = "/admin/impersonation/stop"
LANDING = "/account"  # where the admin lands as the user
NOTICES = {"admin-impersonation-stopped": "You are yourself again: the impersonation has ended."}


async def impersonating(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: only an impersonation session may stop one; anyone else gets an unknown path's 404."""
    principal: Principal | None = connection.scope.get("user")
    if principal is None or impersonation.impersonated_by(principal) is None:
        raise NotFoundException()


# The stop routes' options: rate limited as the console is; the permission the matrix test reads.
STOP_OPTIONS: dict[str, Any] = {
    "guards": [impersonating],
    "opt": {"permission": "user:impersonate", "rate_limit": RATE_LIMIT_RULE, "admin": True, "impersonating": True},
}


def _kit(request: Request[Any, Any, Any]) -> AuthKit:
    kit: AuthKit = request.app.state.auth
    return kit


def _start_cookies(request: Request[Any, Any, Any], started: impersonation.Started) -> list[Cookie]:
    """The user's session cookie; the admin's own token kept aside (a browser's, when it has one)."""
    kit = _kit(request)
    cookies = [kit.sessions.cookie(started.token, persistent=False), kit.sessions.clear_cache_cookie()]
    own = request.cookies.get(kit.sessions.cookie_name)
    if own:
        max_age = int(impersonation.DURATION.total_seconds())
        cookies.append(kit.cookies.make(impersonation.ADMIN_COOKIE, own, max_age=max_age))
    return cookies


async def _stop(request: Request[Any, Any, Any], db: DB, user: Principal) -> tuple[Principal | None, list[Cookie]]:
    """End the impersonation; the admin's own session back, if the browser kept one that still holds."""
    kit = _kit(request)
    admin_id = await impersonation.stop(kit, db, request_meta(request), user)
    kept = request.cookies.get(kit.cookies.name(impersonation.ADMIN_COOKIE))
    cookies = [kit.cookies.expired(impersonation.ADMIN_COOKIE)]
    admin, _ = await kit.sessions.resolve(kept) if kept else (None, False)
    if admin is None or admin.user_id != admin_id:
        return None, [*cookies, *kit.sessions.clear_cookies()]
    assert kept is not None  # resolved
    restored = kit.sessions.cookie(kept, admin.persistent, admin.expires_at)
    return admin, [*cookies, restored, kit.sessions.clear_cache_cookie()]


# --- JSON -----------------------------------------------------------------------------------


@post("/impersonate-user", status_code=200, **console("user:impersonate"))
@raises(UserNotFound, CannotImpersonateAdmins, CannotImpersonate, SessionNotFresh)
async def impersonate_user(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.UserRef],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> Response[dict[str, Any]]:
    """Sign in as the user for an hour (Better Auth's shape: the new session and the user)."""
    _kit(request).require_fresh(user)
    target = await admin.user(db, data.user_id)
    started = await impersonation.start(_kit(request), db, request_meta(request), actor.user_id, target)
    session = schemas.admin_session_json(started.session) | {"impersonatedBy": str(actor.user_id)}
    body: dict[str, Any] = {"session": session, "user": user_json(started.user)}
    if wants_token(request):
        body["token"] = started.token
    return Response(body, cookies=_start_cookies(request, started))


@post("/stop-impersonating", status_code=200, **STOP_OPTIONS)
async def stop_impersonating(request: Request[Any, Any, Any], db: DB, user: CurrentUser) -> Response[dict[str, Any]]:
    """End the impersonation: the admin's session and user again, or nulls when it could not come back."""
    admin, cookies = await _stop(request, db, user)
    if admin is None:
        return Response({"session": None, "user": None}, cookies=cookies)
    session = {"id": str(admin.session_id), "userId": str(admin.user_id), "expiresAt": admin.expires_at.isoformat()}
    return Response({"session": session, "user": user_json(admin)}, cookies=cookies)


# --- pages ----------------------------------------------------------------------------------


@post("/admin/users/{user_id:uuid}/impersonate", **console("user:impersonate", fresh_here))
async def impersonate_submit(
    request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting, user_id: FromPath[uuid.UUID]
) -> Any:
    """Become the user until "Stop impersonating" (or an hour)."""
    target: User = await admin.user(db, user_id)
    try:
        started = await impersonation.start(_kit(request), db, request_meta(request), actor.user_id, target)
    except AppError as error:
        return await render_user_page(request, db, admin, actor, user_id, 422, form_error=error.message)
    return redirect(request, LANDING, cookies=_start_cookies(request, started))


@post(STOP_PATH, **STOP_OPTIONS)
async def stop_submit(request: Request[Any, Any, Any], db: DB, user: CurrentUser) -> Any:
    """Back to the admin's own session, on the page of the user they were."""
    admin, cookies = await _stop(request, db, user)
    if admin is None:
        return redirect(request, "/sign-in", cookies=cookies)
    return redirect(request, user_path(user.user_id), notice="admin-impersonation-stopped", cookies=cookies)


_DEPENDENCIES = {
    "admin": Provide(provide_admin, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
}
_API = [impersonate_user, stop_impersonating]
_PAGES = [impersonate_submit, stop_submit]
IMPERSONATION = [
    Router(
        "/api/auth/admin",
        route_handlers=[*other_methods(_API), *_API],
        dependencies=_DEPENDENCIES,
        include_in_schema=False,
    ),
    Router("/", route_handlers=[*other_methods(_PAGES), *_PAGES], dependencies=_DEPENDENCIES, include_in_schema=False),
]
