"""HTML pages of the console: the users list and a user's page with its actions.

Guarded like the API (app.features.admin.web): 404 to anyone outside the console. Every action
is a form that needs a fresh session (the user re-authenticates and comes back with the form
kept) and is recorded in the audit log by the service.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Template

from app.auth import DB, CurrentUser, Resumed, describe, fresh_session, request_meta
from app.core.errors import AppError, InvalidInput
from app.core.ui import form_data, form_error, page, redirect
from app.features.admin import access
from app.features.admin.listing import Query
from app.features.admin.service import Actor, Admin
from app.features.admin.settings import AdminSettings
from app.features.admin.web import console, other_methods, provide_actor, provide_admin

PATH = "/admin/users"
Service = NamedDependency[Admin]
Acting = NamedDependency[Actor]
SORT_CHOICES = {
    "created": ("createdAt", True),
    "oldest": ("createdAt", False),
    "email": ("email", False),
    "name": ("name", False),
}
BAN_DAYS = {"": None, "1": 1, "7": 7, "30": 30, "365": 365}

# Flash notices of the console's pages (UI.notices, see the feature's FEATURE).
NOTICES = {
    "admin-banned": "The user is banned and signed out everywhere.",
    "admin-unbanned": "The ban is lifted.",
    "admin-role-set": "The role has been changed.",
    "admin-verified": "The email address is marked verified.",
    "admin-reset-sent": "A password-reset link is on its way to the user's address.",
    "admin-session-revoked": "That session has ended.",
    "admin-sessions-revoked": "Every session of this user has ended.",
    "admin-deleted": "The user has been deleted.",
}


def user_path(user_id: uuid.UUID | str) -> str:
    """The page of one user."""
    return f"{PATH}/{user_id}"


async def fresh_here(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """`fresh_session` back to the user's page the form was on, form kept."""
    back = user_path(connection.path_params["user_id"])
    checked = fresh_session(back)(connection, handler)
    if checked is not None:
        await checked


@get(PATH, **console("user:list"))
async def users_page(request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting) -> Template:
    """Users, searched by email or name, sorted, a page at a time (keyset: `after` is a cursor)."""
    params = request.query_params
    search = (params.get("q") or "").strip()[:254]
    sort_key = params.get("sort") or "created"
    sort, descending = SORT_CHOICES.get(sort_key, SORT_CHOICES["created"])
    size = request.app.state.settings.feature(AdminSettings).page_size
    query = Query(
        search=search,
        search_field="any",
        sort=sort,
        descending=descending,
        limit=size,
        cursor=params.get("after") or None,
    )
    try:
        result = await admin.list_users(db, query)
    except AppError as error:  # a cursor this app did not make: the first page, with the message
        result = await admin.list_users(
            db, Query(search=search, search_field="any", sort=sort, descending=descending, limit=size)
        )
        return _users(request, result, search, sort_key, first=True, form_error=error.message)
    return _users(request, result, search, sort_key, first=not query.cursor)


def _users(
    request: Request[Any, Any, Any], result: Any, search: str, sort_key: str, first: bool, **context: Any
) -> Template:
    return page(
        request,
        "admin/users.html",
        page=result,
        search=search,
        sort=sort_key if sort_key in SORT_CHOICES else "created",
        first=first,
        labels=access.ROLE_LABELS,
        form={"q": search},
        **context,
    )


async def _user_page(
    request: Request[Any, Any, Any],
    db: DB,
    admin: Admin,
    actor: Actor,
    user_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Template:
    person = await admin.user(db, user_id)
    sessions = await admin.sessions(db, person.id) if actor.can("session:list") else []
    can = {
        "ban": actor.can("user:ban") and person.id != actor.user_id,
        "set_role": actor.can("user:set-role") and access.can_grant(actor.role, person.role),
        "verify": actor.can("user:update") and not person.email_verified,
        "reset": actor.can("user:set-password"),
        "revoke": actor.can("session:revoke"),
        "delete": actor.can("user:delete") and person.id != actor.user_id,
    }
    return page(
        request,
        "admin/user.html",
        status_code=status_code,
        person=person,
        sessions=[(s, describe(s.user_agent)) for s in sessions],
        can=can,
        grantable=access.grantable(actor.role),
        labels=access.ROLE_LABELS,
        me=actor,
        **context,
    )


@get(PATH + "/{user_id:uuid}", **console("user:get"))
async def user_page(
    request: Request[Any, Any, Any],
    db: DB,
    admin: Service,
    actor: Acting,
    user_id: FromPath[uuid.UUID],
    resumed: Resumed,
) -> Template:
    """One user: their account, sessions and the actions the caller's role allows."""
    form = dict(resumed.fields) if resumed else {}
    return await _user_page(request, db, admin, actor, user_id, form=form)


async def _act(
    request: Request[Any, Any, Any],
    db: DB,
    admin: Admin,
    actor: Actor,
    user_id: uuid.UUID,
    action: Any,
    notice: str,
    fields: list[str],
) -> Any:
    form = await form_data(request, fields)
    person = await admin.user(db, user_id)
    try:
        await action(person, form)
    except AppError as error:
        if error.status_code == 404:
            raise
        return await _user_page(request, db, admin, actor, user_id, 422, **form_error(error, form))
    return redirect(request, user_path(user_id), notice=notice)


@post(PATH + "/{user_id:uuid}/ban", **console("user:ban", fresh_here))
async def ban_submit(
    request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting, user_id: FromPath[uuid.UUID]
) -> Any:
    """Ban the user, with a reason and for some days or until lifted."""

    async def ban(person: Any, form: dict[str, str]) -> None:
        if form["days"] not in BAN_DAYS:
            raise InvalidInput("Choose how long the ban lasts.")
        days = BAN_DAYS[form["days"]]
        await admin.ban(db, request_meta(request), actor, person, form["reason"], days * 86400 if days else None)

    return await _act(request, db, admin, actor, user_id, ban, "admin-banned", ["reason", "days"])


@post(PATH + "/{user_id:uuid}/unban", **console("user:ban", fresh_here))
async def unban_submit(
    request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting, user_id: FromPath[uuid.UUID]
) -> Any:
    """Lift the ban."""

    async def unban(person: Any, form: dict[str, str]) -> None:
        await admin.unban(db, request_meta(request), actor, person)

    return await _act(request, db, admin, actor, user_id, unban, "admin-unbanned", [])


@post(PATH + "/{user_id:uuid}/role", **console("user:set-role", fresh_here))
async def role_submit(
    request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting, user_id: FromPath[uuid.UUID]
) -> Any:
    """Change the user's role."""

    async def set_role(person: Any, form: dict[str, str]) -> None:
        await admin.set_role(db, request_meta(request), actor, person, form["role"])

    return await _act(request, db, admin, actor, user_id, set_role, "admin-role-set", ["role"])


@post(PATH + "/{user_id:uuid}/verify", **console("user:update", fresh_here))
async def verify_submit(
    request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting, user_id: FromPath[uuid.UUID]
) -> Any:
    """Mark the address verified."""

    async def verify(person: Any, form: dict[str, str]) -> None:
        await admin.verify_email(db, request_meta(request), actor, person)

    return await _act(request, db, admin, actor, user_id, verify, "admin-verified", [])


@post(PATH + "/{user_id:uuid}/reset-password", **console("user:set-password", fresh_here))
async def reset_submit(
    request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting, user_id: FromPath[uuid.UUID]
) -> Any:
    """Mail the user a password-reset link."""

    async def send(person: Any, form: dict[str, str]) -> None:
        await admin.send_password_reset(db, request_meta(request), actor, person)

    return await _act(request, db, admin, actor, user_id, send, "admin-reset-sent", [])


@post(PATH + "/{user_id:uuid}/sessions/{session_id:uuid}/revoke", **console("session:revoke", fresh_here))
async def revoke_submit(
    request: Request[Any, Any, Any],
    db: DB,
    admin: Service,
    actor: Acting,
    user_id: FromPath[uuid.UUID],
    session_id: FromPath[uuid.UUID],
) -> Any:
    """End one of the user's sessions."""

    async def revoke(person: Any, form: dict[str, str]) -> None:
        await admin.revoke_session(db, request_meta(request), actor, str(session_id))

    return await _act(request, db, admin, actor, user_id, revoke, "admin-session-revoked", [])


@post(PATH + "/{user_id:uuid}/sessions/revoke", **console("session:revoke", fresh_here))
async def revoke_all_submit(
    request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting, user_id: FromPath[uuid.UUID]
) -> Any:
    """End every session of the user."""

    async def revoke_all(person: Any, form: dict[str, str]) -> None:
        await admin.revoke_sessions(db, request_meta(request), actor, person)

    return await _act(request, db, admin, actor, user_id, revoke_all, "admin-sessions-revoked", [])


@post(PATH + "/{user_id:uuid}/delete", **console("user:delete", fresh_here))
async def delete_submit(
    request: Request[Any, Any, Any],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
    user_id: FromPath[uuid.UUID],
) -> Any:
    """Delete the user once their email address is typed."""
    form = await form_data(request, ["confirm"])
    person = await admin.user(db, user_id)
    if form["confirm"].strip().lower() != person.email:
        errors = {"confirm": f"Type {person.email} to confirm."}
        return await _user_page(request, db, admin, actor, user_id, 422, form=form, errors=errors)
    try:
        await admin.remove(db, request_meta(request), actor, person)
    except AppError as error:
        return await _user_page(request, db, admin, actor, user_id, 422, **form_error(error, form))
    return redirect(request, PATH, notice="admin-deleted")


HANDLERS = [
    users_page,
    user_page,
    ban_submit,
    unban_submit,
    role_submit,
    verify_submit,
    reset_submit,
    revoke_submit,
    revoke_all_submit,
    delete_submit,
]

VIEWS = Router(
    "/",
    route_handlers=[*other_methods(HANDLERS), *HANDLERS],
    dependencies={
        "admin": Provide(provide_admin, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
    },
    include_in_schema=False,
)
