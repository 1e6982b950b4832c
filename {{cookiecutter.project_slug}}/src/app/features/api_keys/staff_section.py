"""The API keys card on the page about one user that staff see (`UI.staff_sections`).

Read-only, and never the secret: the key's name, its visible start, scopes, dates and whether it
still works (revoked keys stay listed: a leak is investigated with them). The hash is not even
read. Bounded however many keys the user made: the newest `SHOWN` and a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.auth import User
from app.core.db import utcnow
from app.features.api_keys.models import ApiKey
from app.features.api_keys.scopes import SCOPES

SHOWN = 20
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
K = ApiKey.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class KeyRow:
    """One key as staff see it."""

    name: str
    start: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    status: str  # ACTIVE (it works), EXPIRED or REVOKED


def _status(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None:
        return REVOKED
    return EXPIRED if expires_at is not None and expires_at <= now else ACTIVE


async def staff_context(db: AsyncSession, user: User) -> dict[str, Any]:
    """The user's newest keys, revoked ones included, and how many they have made."""
    newest: Select[*tuple[Any, ...]] = (
        Select(K.name, K.start, K.scopes, K.created_at, K.last_used_at, K.expires_at, K.revoked_at)
        .where(K.user_id == user.id)
        .order_by(K.created_at.desc(), K.id)
        .limit(SHOWN)
    )
    total = select(func.count()).select_from(ApiKey).where(K.user_id == user.id)
    now = utcnow()
    keys = [
        KeyRow(
            name,
            start,
            [scope for scope in scopes if scope in SCOPES],
            created_at,
            last_used_at,
            expires_at,
            revoked_at,
            _status(expires_at, revoked_at, now),
        )
        for name, start, scopes, created_at, last_used_at, expires_at, revoked_at in (await db.exec(newest)).all()
    ]
    return {"keys": keys, "total": int((await db.exec(total)).one())}
