"""HTML pages of the console: the users list and a user's page (its forms are in user_actions).

Guarded like the API (app.features.admin.web): 404 to anyone outside the console. Every action
is a form that needs a fresh session (the user re-authenticates and comes back with the form
kept) and is recorded in the audit log by the service.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Template

from app.auth import DB, Resumed, describe, fresh_session
from app.core.db import utcnow
from app.core.errors import AppError
from app.core.ui import page
from app.features.admin import access
from app.features.admin.audit_log import recent_activity
from app.features.admin.listing import Query
from app.features.admin.service import Actor, Admin
from app.features.admin.settings import AdminSettings
from app.features.admin.user_cards import sign_in_methods, staff_cards
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
        activity = await admin.activity(db, result.users)
        return _users(request, result, search, sort_key, first=True, form_error=error.message, activity=activity)
    activity = await admin.activity(db, result.users)  # last sign-in and 2FA of the page's users, at once
    return _users(request, result, search, sort_key, first=not query.cursor, activity=activity)


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


async def render_user_page(
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
    activity = await recent_activity(db, person.id) if actor.can("audit:list") else None
    ui = request.app.state.ui
    sign_in = await sign_in_methods(db, admin.kit, ui.labels, person.id)
    cards = await staff_cards(db, ui.staff_sections, person)
    can = {
        "ban": actor.can("user:ban") and person.id != actor.user_id,
        "set_role": actor.can("user:set-role") and access.can_grant(actor.role, person.role),
        "verify": actor.can("user:update") and not person.email_verified,
        "reset": actor.can("user:set-password"),
        "revoke": actor.can("session:revoke"),
        "delete": actor.can("user:delete") and person.id != actor.user_id,
        "impersonate": actor.can("user:impersonate")
        and person.id != actor.user_id
        and not access.is_console_user(person.role)
        and not person.is_banned(utcnow()),
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
        activity=activity,
        sign_in=sign_in,
        staff_sections=cards.templates,
        staff=cards.data,
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
    return await render_user_page(request, db, admin, actor, user_id, form=form)


HANDLERS = [
    users_page,
    user_page,
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
