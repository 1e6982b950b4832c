"""JSON API of the console under /api/auth/admin/, with the paths and shapes of Better Auth's admin plugin.

Every route answers 404 to anyone outside the console and is rate limited and audited (see
app.features.admin.web); the ones that change or end something need a fresh session (403
SESSION_NOT_FRESH otherwise). `list-users` pages by `limit`/`offset` as Better Auth does, or by a
keyset `cursor` (`nextCursor` in the answer), which stays fast however far one pages.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter

from app.auth import DB, CurrentUser, request_meta
from app.core.errors import InvalidInput, SessionNotFresh
from app.core.openapi import raises
from app.features.admin import access, impersonation, schemas
from app.features.admin.account_routes import ACCOUNT_HANDLERS
from app.features.admin.errors import (
    CannotBanYourself,
    CannotRemoveYourself,
    LastAdmin,
    RoleAboveYourOwn,
    UnknownRole,
    UserNotFound,
)
from app.features.admin.listing import Query
from app.features.admin.service import Actor, Admin
from app.features.admin.web import console, other_methods, provide_actor, provide_admin, require_fresh

Service = NamedDependency[Admin]
Acting = NamedDependency[Actor]


@get("/list-users", **console("user:list"))
@raises(InvalidInput)
async def list_users(
    db: DB,
    admin: Service,
    actor: Acting,
    search_value: Annotated[str | None, QueryParameter(name="searchValue")] = None,
    search_field: Annotated[Literal["email", "name"], QueryParameter(name="searchField")] = "email",
    search_operator: Annotated[
        Literal["contains", "starts_with", "ends_with"], QueryParameter(name="searchOperator")
    ] = "contains",
    limit: Annotated[int | None, QueryParameter(ge=0)] = None,
    offset: Annotated[int | None, QueryParameter(ge=0)] = None,
    sort_by: Annotated[str | None, QueryParameter(name="sortBy")] = None,
    sort_direction: Annotated[Literal["asc", "desc"], QueryParameter(name="sortDirection")] = "asc",
    filter_field: Annotated[str | None, QueryParameter(name="filterField")] = None,
    filter_value: Annotated[str | None, QueryParameter(name="filterValue")] = None,
    filter_operator: Annotated[Literal["eq", "ne"], QueryParameter(name="filterOperator")] = "eq",
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """Users matching a search and a filter, sorted, a page at a time (at most 100)."""
    query = Query(
        search=search_value or "",
        search_field=search_field,
        operator=search_operator,
        sort=sort_by or "createdAt",
        descending=sort_direction == "desc" if sort_by else False,
        limit=limit or 100,
        offset=offset or 0,
        cursor=cursor or None,
        filter_field=(filter_field or "email") if filter_value is not None else None,
        filter_value=filter_value,
        filter_negate=filter_operator == "ne",
    )
    page = await admin.list_users(db, query)
    answer: dict[str, Any] = {"users": [schemas.admin_user_json(u) for u in page.users], "total": page.total}
    if limit:
        answer["limit"] = limit
    if offset:
        answer["offset"] = offset
    if cursor is not None:
        answer["nextCursor"] = page.next_cursor
    return answer


@get("/get-user", **console("user:get"))
@raises(UserNotFound)
async def get_user(
    db: DB, admin: Service, actor: Acting, user_id: Annotated[str, QueryParameter(name="id")]
) -> dict[str, Any]:
    """One user."""
    return schemas.admin_user_json(await admin.user(db, user_id))


@post("/list-user-sessions", status_code=200, **console("session:list"))
@raises(UserNotFound)
async def list_user_sessions(data: JSONBody[schemas.UserRef], db: DB, admin: Service, actor: Acting) -> dict[str, Any]:
    """The user's unexpired sessions."""
    user = await admin.user(db, data.user_id)
    sessions = await admin.sessions(db, user.id)
    by = await impersonation.impersonators(db, [s.id for s in sessions])
    return {"sessions": [schemas.admin_session_json(s, by.get(s.id)) for s in sessions]}


@post("/set-role", status_code=200, **console("user:set-role"))
@raises(UserNotFound, UnknownRole, RoleAboveYourOwn, LastAdmin, SessionNotFresh)
async def set_role(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.SetRole],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """Give a user a role (or several): never one with permissions the caller does not hold."""
    require_fresh(request, user)
    target = await admin.user(db, data.user_id)
    changed = await admin.set_role(db, request_meta(request), actor, target, schemas.joined(data.role))
    return {"user": schemas.admin_user_json(changed)}


@post("/ban-user", status_code=200, **console("user:ban"))
@raises(UserNotFound, CannotBanYourself, RoleAboveYourOwn, LastAdmin, SessionNotFresh)
async def ban_user(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.BanUser],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """Ban a user (`banExpiresIn` seconds, or until lifted): their sessions end now."""
    require_fresh(request, user)
    target = await admin.user(db, data.user_id)
    banned = await admin.ban(db, request_meta(request), actor, target, data.ban_reason, data.ban_expires_in)
    return {"user": schemas.admin_user_json(banned)}


@post("/unban-user", status_code=200, **console("user:ban"))
@raises(UserNotFound, SessionNotFresh)
async def unban_user(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.UserRef],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """Lift a ban."""
    require_fresh(request, user)
    target = await admin.user(db, data.user_id)
    return {"user": schemas.admin_user_json(await admin.unban(db, request_meta(request), actor, target))}


@post("/revoke-user-session", status_code=200, **console("session:revoke"))
@raises(SessionNotFresh)
async def revoke_user_session(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.RevokeUserSession],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """End one session (`sessionToken` is the id list-user-sessions gives)."""
    require_fresh(request, user)
    await admin.revoke_session(db, request_meta(request), actor, data.session_token)
    return {"success": True}


@post("/revoke-user-sessions", status_code=200, **console("session:revoke"))
@raises(UserNotFound, SessionNotFresh)
async def revoke_user_sessions(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.UserRef],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """End every session of a user."""
    require_fresh(request, user)
    target = await admin.user(db, data.user_id)
    await admin.revoke_sessions(db, request_meta(request), actor, target)
    return {"success": True}


@post("/remove-user", status_code=200, **console("user:delete"))
@raises(UserNotFound, CannotRemoveYourself, RoleAboveYourOwn, LastAdmin, SessionNotFresh)
async def remove_user(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.UserRef],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """Delete a user and everything of theirs."""
    require_fresh(request, user)
    target = await admin.user(db, data.user_id)
    await admin.remove(db, request_meta(request), actor, target)
    return {"success": True}


@post("/has-permission", status_code=200, **console("user:list"))
@raises(InvalidInput)
async def has_permission(data: JSONBody[schemas.HasPermission], actor: Acting) -> dict[str, Any]:
    """Whether the caller's role holds every permission asked (as Better Auth: the session's, not the body's)."""
    wanted = data.permissions if data.permissions is not None else data.permission
    if not wanted:
        raise InvalidInput("invalid permission check. no permission(s) were passed.", field="permissions")
    return {"error": None, "success": access.has_all(actor.role, wanted)}


HANDLERS = [
    list_users,
    get_user,
    list_user_sessions,
    set_role,
    ban_user,
    unban_user,
    revoke_user_session,
    revoke_user_sessions,
    remove_user,
    has_permission,
    *ACCOUNT_HANDLERS,
]

API = Router(
    "/api/auth/admin",
    route_handlers=[*other_methods(HANDLERS), *HANDLERS],
    dependencies={
        "admin": Provide(provide_admin, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
    },
    tags=["admin"],
    # Not in the published OpenAPI schema: the console does not reveal that it exists (docs/admin.md).
    include_in_schema=False,
)
