"""JSON routes of the console that make or edit an account: create-user, update-user, set-user-password.

Better Auth's paths and shapes (see routes.py); each needs a fresh session and is audited by the
service.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.auth import DB, CurrentUser, request_meta
from app.core.errors import InvalidInput, SessionNotFresh
from app.core.openapi import raises
from app.features.admin import schemas
from app.features.admin.errors import RoleAboveYourOwn, UnknownRole, UserExists, UserNotFound
from app.features.admin.service import Actor, Admin
from app.features.admin.web import console, require_fresh

Service = NamedDependency[Admin]
Acting = NamedDependency[Actor]


@post("/set-user-password", status_code=200, **console("user:set-password"))
@raises(UserNotFound, RoleAboveYourOwn, InvalidInput, SessionNotFresh)
async def set_user_password(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.SetUserPassword],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """Give a user a new password (the password policy applies)."""
    require_fresh(request, user)
    target = await admin.user(db, data.user_id)
    await admin.set_password(db, request_meta(request), actor, target, data.new_password)
    return {"status": True}


@post("/create-user", status_code=200, **console("user:create"))
@raises(UserExists, UnknownRole, RoleAboveYourOwn, InvalidInput, SessionNotFresh)
async def create_user(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.CreateUser],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """Add a user, with a password when given and a role (`data.role` counts as `role`)."""
    require_fresh(request, user)
    role = data.role if data.role is not None else (data.data or {}).get("role")
    if role is not None and not isinstance(role, (str, list)):
        raise InvalidInput("Invalid role type.", field="role")
    created = await admin.create_user(
        db,
        request_meta(request),
        actor,
        email=data.email,
        name=data.name,
        password=data.password,
        role=schemas.joined(role) if role is not None else None,
    )
    return {"user": schemas.admin_user_json(created)}


@post("/update-user", status_code=200, **console("user:update"))
@raises(UserNotFound, RoleAboveYourOwn, InvalidInput, SessionNotFresh)
async def update_user(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.UpdateUser],
    db: DB,
    user: CurrentUser,
    admin: Service,
    actor: Acting,
) -> dict[str, Any]:
    """Change a user's name or picture (Better Auth's shape: the user itself)."""
    require_fresh(request, user)
    target = await admin.user(db, data.user_id)
    changed = await admin.update_profile(db, request_meta(request), actor, target, data.data.name, data.data.image)
    return schemas.admin_user_json(changed)


ACCOUNT_HANDLERS = [create_user, update_user, set_user_password]
