"""Impersonation: an admin signs in as a user, for an hour at most, to see what they see.

The admin's own session stays open and waits (the browser keeps its token in a second HttpOnly
cookie, `admin_session`); the user gets a new, short session whose `impersonatedBy` field names
the admin (a row of `admin_impersonation`, read in the session lookup's one SELECT). While it
lasts, sensitive actions are refused however fresh the session is (password, email, factors,
passkeys, API keys, sessions, deletion: everything behind `fresh_session` / `require_fresh`),
and the user's own session list shows it as opened by an administrator. Nobody impersonates a
console user (no way up), a banned user, or themself. Starting and stopping are audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, Principal, Session, SessionField, User
from app.core.db import utcnow
from app.core.errors import AppError
from app.core.events import RequestMeta
from app.features.admin import access
from app.features.admin.errors import CannotImpersonate, CannotImpersonateAdmins
from app.features.admin.models import Impersonation

METHOD = "impersonation"  # the session's sign_in_method: the session lists say who opened it
DURATION = timedelta(hours=1)
ADMIN_COOKIE = "admin_session"  # the admin's own session token, kept while they impersonate
STARTED = "admin.impersonation_started"
STOPPED = "admin.impersonation_stopped"

IMPERSONATED_BY = SessionField(
    "impersonatedBy",
    select(col(Impersonation.admin_id)).where(col(Impersonation.session_id) == col(Session.id)).scalar_subquery(),
)


class Impersonating(AppError):
    """A sensitive action asked of an impersonation session."""

    code = "IMPERSONATING"
    status_code = 403
    default_message = "Not while impersonating: stop impersonating first. Only the user can change this."


def impersonated_by(principal: Principal) -> str | None:
    """The id of the admin who opened this session as its user, or None."""
    value = principal.field(IMPERSONATED_BY.name)
    return str(value) if value else None


async def impersonators(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Which of these sessions an admin opened, and who (session id -> admin id)."""
    if not session_ids:
        return {}
    rows = await db.exec(
        select(Impersonation.session_id, Impersonation.admin_id).where(col(Impersonation.session_id).in_(session_ids))
    )
    return dict(rows.all())


def refuse_while_impersonating(principal: Principal) -> AppError | None:
    """The kit's sensitive-action refusal (AuthKit.refuse_sensitive_when) for impersonation sessions."""
    return Impersonating() if impersonated_by(principal) else None


@dataclass(frozen=True)
class Started:
    """A new impersonation: the user, their new session and its token (for the cookie)."""

    user: User
    session: Session
    token: str


async def start(kit: AuthKit, db: AsyncSession, meta: RequestMeta, admin_id: uuid.UUID, user: User) -> Started:
    """Open a session as `user` for DURATION, marked as `admin_id`'s; the caller checked the permission."""
    now = utcnow()
    if user.id == admin_id:
        raise CannotImpersonate("You cannot impersonate yourself.")
    if access.is_console_user(user.role):
        raise CannotImpersonateAdmins()
    if user.is_banned(now):
        raise CannotImpersonate("This user is banned: lift the ban first.")
    session, token = await kit.sessions.create(db, user, meta, METHOD, persistent=False)
    session.expires_at = session.absolute_expires_at = now + DURATION
    await db.flush()  # the session row first: the impersonation row refers to it
    db.add(Impersonation(session_id=session.id, admin_id=admin_id, created_at=now))
    await kit.record(
        db,
        STARTED,
        meta,
        actor=admin_id,
        target_type="user",
        target_id=user.id,
        session_id=str(session.id),
        expires_at=session.expires_at.isoformat(),
    )
    await db.commit()
    return Started(user, session, token)


async def stop(kit: AuthKit, db: AsyncSession, meta: RequestMeta, principal: Principal) -> uuid.UUID:
    """End the impersonation session `principal` is on; return the admin's id. The caller checked it is one."""
    admin_id = impersonated_by(principal)
    if admin_id is None:
        raise RuntimeError("stop() needs an impersonation session")
    await kit.sessions.revoke(db, principal.session_id)
    await kit.record(
        db,
        STOPPED,
        meta,
        actor=uuid.UUID(admin_id),
        target_type="user",
        target_id=principal.user_id,
        session_id=str(principal.session_id),
    )
    await db.commit()
    return uuid.UUID(admin_id)
