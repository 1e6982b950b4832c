"""JSON shapes of the admin API, camelCase as Better Auth's admin plugin has them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec

from app.auth import Session, User, iso, user_json

Text = Annotated[str, msgspec.Meta(max_length=4096)]
Roles = Text | list[Text]


class UserRef(msgspec.Struct):
    user_id: Text = msgspec.field(name="userId")


class SetRole(msgspec.Struct):
    user_id: Text = msgspec.field(name="userId")
    role: Roles


class BanUser(msgspec.Struct):
    user_id: Text = msgspec.field(name="userId")
    ban_reason: Text | None = msgspec.field(default=None, name="banReason")
    ban_expires_in: int | None = msgspec.field(default=None, name="banExpiresIn")  # seconds


class RevokeUserSession(msgspec.Struct):
    session_token: Text = msgspec.field(name="sessionToken")  # the session's id, as list-user-sessions gives it


class CreateUser(msgspec.Struct):
    email: Text
    name: Text
    password: Text | None = None
    role: Roles | None = None
    data: dict[str, Any] | None = None


class SetUserPassword(msgspec.Struct):
    user_id: Text = msgspec.field(name="userId")
    new_password: Text = msgspec.field(name="newPassword")


class UpdateUserData(msgspec.Struct, forbid_unknown_fields=True):
    """What update-user may change: the profile. Roles, passwords and bans have their own routes."""

    name: Text | None = None
    image: Text | None = None


class UpdateUser(msgspec.Struct):
    user_id: Text = msgspec.field(name="userId")
    data: UpdateUserData


class HasPermission(msgspec.Struct):
    permissions: dict[str, list[Text]] | None = None
    permission: dict[str, list[Text]] | None = None  # the older name Better Auth still accepts
    user_id: Text | None = msgspec.field(default=None, name="userId")
    role: Text | None = None


def joined(role: str | list[str]) -> str:
    """A role or several, as the `role` column keeps them ("admin,support")."""
    return ",".join(role) if isinstance(role, list) else role


def admin_user_json(user: User) -> dict[str, Any]:
    """A user with the admin plugin's fields (Better Auth's UserWithRole)."""
    return user_json(user) | {
        "role": user.role,
        "banned": user.banned,
        "banReason": user.ban_reason,
        "banExpires": iso(user.ban_expires) if user.ban_expires else None,
    }


def admin_session_json(session: Session, impersonated_by: uuid.UUID | None = None) -> dict[str, Any]:
    """A session as list-user-sessions gives it; `token` is its public id, never the cookie's secret."""
    return {
        "id": str(session.id),
        "token": str(session.id),
        "userId": str(session.user_id),
        "expiresAt": iso(session.expires_at),
        "createdAt": iso(session.created_at),
        "updatedAt": iso(session.updated_at),
        "ipAddress": session.ip_address,
        "userAgent": session.user_agent,
        "impersonatedBy": str(impersonated_by) if impersonated_by else None,
    }
