"""A user's view and control of their own sessions: list them, sign one out, the others, or all.

No HTTP objects here; the JSON routes and the security page call these. Users only ever see and
revoke their own sessions: another user's session id gets the same answer as one that does not
exist. Revoking needs a fresh session, except revoking the session in use, which is signing out.
A revoked session fails on its next request, or, with AUTH_COOKIE_CACHE on, once the browser's
cache cookie expires (at most AUTH_COOKIE_CACHE_MAX_AGE seconds later).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.devices import DeviceInfo, describe
from app.auth.kit import AuthKit
from app.auth.models import Session
from app.auth.sessions import Principal
from app.core.errors import SessionNotFound
from app.core.events import RequestMeta

METHOD_LABELS = {"password": "Password"}  # the core's own; features add theirs (UI.labels)


@dataclass(frozen=True)
class SessionRow:
    """One line of the session list."""

    id: uuid.UUID
    device: DeviceInfo
    ip_address: str | None
    sign_in_method: str
    created_at: datetime
    last_active_at: datetime
    current: bool
    method_label: str  # how it was signed in, in words ("provider:name" reads "<provider label> (name)")


def method_label(method: str, labels: Mapping[str, str]) -> str:
    """A sign-in method in words, from `labels` (a method's key -> words), else from the key itself."""
    key, _, detail = method.partition(":")
    label = labels.get(key, key.replace("-", " ").capitalize())
    return f"{label} ({detail})" if detail else label


class SessionControl:
    """The session list and its revocations, over the auth core's SessionManager and events."""

    def __init__(self, auth: AuthKit, labels: Mapping[str, str] | None = None) -> None:
        self.auth = auth
        self.sessions = auth.sessions
        self.labels = METHOD_LABELS | dict(labels or {})

    async def active(self, db: AsyncSession, principal: Principal) -> list[Session]:
        """The signed-in user's unexpired sessions, most recently active first."""
        return await self.sessions.active(db, principal.user_id)

    async def rows(self, db: AsyncSession, principal: Principal) -> list[SessionRow]:
        """The session list as shown: this device first, then by last activity."""
        rows = [
            SessionRow(
                id=row.id,
                device=describe(row.user_agent),
                ip_address=row.ip_address,
                sign_in_method=row.sign_in_method,
                created_at=row.created_at,
                last_active_at=row.updated_at,
                current=row.id == principal.session_id,
                method_label=method_label(row.sign_in_method, self.labels),
            )
            for row in await self.active(db, principal)
        ]
        return sorted(rows, key=lambda row: not row.current)  # stable: keeps the activity order

    async def revoke(self, db: AsyncSession, meta: RequestMeta, principal: Principal, session_id: uuid.UUID) -> None:
        """Sign one of the user's sessions out; SessionNotFound if it is not theirs (or gone)."""
        if session_id != principal.session_id:
            self.auth.require_fresh(principal)
        if not await self.sessions.revoke(db, session_id, user_id=principal.user_id):
            raise SessionNotFound()
        reason = "sign-out" if session_id == principal.session_id else "revoked"
        await self.auth.record_revoked(db, meta, principal.user_id, [session_id], reason)
        await db.commit()

    async def revoke_others(self, db: AsyncSession, meta: RequestMeta, principal: Principal) -> int:
        """Sign out every other session of the user; return how many went."""
        self.auth.require_fresh(principal)
        revoked = await self.sessions.revoke_all(db, principal.user_id, keep=principal.session_id)
        await self.auth.record_revoked(db, meta, principal.user_id, revoked, "revoked-others")
        await db.commit()
        return len(revoked)

    async def revoke_all(self, db: AsyncSession, meta: RequestMeta, principal: Principal) -> int:
        """Sign out everywhere, this session included; return how many went."""
        self.auth.require_fresh(principal)
        revoked = await self.sessions.revoke_all(db, principal.user_id)
        await self.auth.record_revoked(db, meta, principal.user_id, revoked, "revoked-all")
        await db.commit()
        return len(revoked)
