"""JSON shapes of the auth API, camelCase as Better Auth's, so its client works unmodified."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

from app.auth.models import Session, User
from app.auth.sessions import Principal

Text = Annotated[str, msgspec.Meta(max_length=4096)]


def iso(moment: datetime) -> str:
    """A timestamp as JavaScript's Date.toJSON() writes it (UTC, milliseconds, Z).

    Better Auth's client parses dates with a regex that reads every fraction digit as
    milliseconds, so microseconds would shift them by up to 1,000 seconds.
    """
    if moment.tzinfo is not UTC:  # the database's datetimes already are (app.core.db.UTCDateTime)
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"  # without "+00:00"


class SignUpEmail(msgspec.Struct, forbid_unknown_fields=False):
    name: Text
    email: Text
    password: Text
    image: Text | None = None
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")
    remember_me: bool = msgspec.field(default=True, name="rememberMe")


class SignInEmail(msgspec.Struct):
    email: Text
    password: Text
    remember_me: bool = msgspec.field(default=True, name="rememberMe")
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")


class SendVerificationEmail(msgspec.Struct):
    email: Text
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")


class RequestPasswordReset(msgspec.Struct):
    email: Text
    redirect_to: Text | None = msgspec.field(default=None, name="redirectTo")


class ResetPassword(msgspec.Struct):
    new_password: Text = msgspec.field(name="newPassword")
    token: Text | None = None


class ChangePassword(msgspec.Struct):
    new_password: Text = msgspec.field(name="newPassword")
    current_password: Text = msgspec.field(name="currentPassword")
    revoke_other_sessions: bool = msgspec.field(default=False, name="revokeOtherSessions")


class ChangeEmail(msgspec.Struct):
    new_email: Text = msgspec.field(name="newEmail")
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")


class UpdateUser(msgspec.Struct):
    name: Text | None = None
    image: Text | None = None


class DeleteUser(msgspec.Struct):
    password: Text | None = None
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")


class RevokeSession(msgspec.Struct):
    token: Text  # the session's public id, as list-sessions gives it


def user_json(user: User | Principal) -> dict[str, Any]:
    """A user as Better Auth's client expects it."""
    if isinstance(user, Principal):
        return {
            "id": str(user.user_id),
            "name": user.name,
            "email": user.email,
            "emailVerified": user.email_verified,
            "image": user.image,
            "createdAt": iso(user.user_created_at),
            "updatedAt": iso(user.user_updated_at),
        }
    return {
        "id": str(user.id),
        "name": user.name,
        "email": user.email,
        "emailVerified": user.email_verified,
        "image": user.image,
        "createdAt": iso(user.created_at),
        "updatedAt": iso(user.updated_at),
    }


def session_json(session: Principal | Session) -> dict[str, Any]:
    """A session; `token` is the public handle (the id), never the secret cookie value."""
    session_id = str(session.session_id if isinstance(session, Principal) else session.id)
    return {
        "id": session_id,
        "token": session_id,
        "userId": str(session.user_id),
        "expiresAt": iso(session.expires_at),
        "createdAt": iso(session.created_at),
        "updatedAt": iso(session.updated_at),
        "ipAddress": session.ip_address,
        "userAgent": session.user_agent,
    }
