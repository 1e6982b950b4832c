"""The forms of a user's page in the console: ban, unban, role, verify, reset, sessions, delete.

Each needs a fresh session (the admin re-authenticates and comes back with the form kept, see
`fresh_here`), calls the console's service, which records it in the audit log, and comes back
to the user's page with a notice, or with the service's message inline.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from app.auth import DB, CurrentUser, request_meta
from app.core.errors import AppError, InvalidInput
from app.core.ui import form_data, form_error, redirect
from app.features.admin.service import Actor, Admin
from app.features.admin.views import PATH, fresh_here, render_user_page, user_path
from app.features.admin.web import console, other_methods, provide_actor, provide_admin

Service = NamedDependency[Admin]
Acting = NamedDependency[Actor]
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
        return await render_user_page(request, db, admin, actor, user_id, 422, **form_error(error, form))
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
        return await render_user_page(request, db, admin, actor, user_id, 422, form=form, errors=errors)
    try:
        await admin.remove(db, request_meta(request), actor, person)
    except AppError as error:
        return await render_user_page(request, db, admin, actor, user_id, 422, **form_error(error, form))
    return redirect(request, PATH, notice="admin-deleted")


HANDLERS = [
    ban_submit,
    unban_submit,
    role_submit,
    verify_submit,
    reset_submit,
    revoke_submit,
    revoke_all_submit,
    delete_submit,
]

ACTIONS = Router(
    "/",
    route_handlers=[*other_methods(HANDLERS), *HANDLERS],
    dependencies={
        "admin": Provide(provide_admin, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
    },
    include_in_schema=False,
)
