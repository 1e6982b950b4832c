"""The passkeys card on the page about one user that staff see (`UI.staff_sections`).

Read-only: each passkey's name, the authenticator that holds it when it says (its AAGUID), whether
it is synced, and when it was added and last used. Neither the credential id nor the public key
is read. Bounded however many the user added: the newest `SHOWN` and a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.auth import User
from app.features.passkeys.models import Passkey
from app.features.passkeys.names import KNOWN_AAGUIDS

SHOWN = 20
P = Passkey.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PasskeyRow:
    """One passkey as staff see it."""

    name: str
    authenticator: str | None  # "iCloud Keychain", when its AAGUID is a known one
    synced: bool  # a multi-device passkey (a password manager's), not bound to one device
    created_at: datetime
    last_used_at: datetime | None


async def staff_context(db: AsyncSession, user: User) -> dict[str, Any]:
    """The user's newest passkeys and how many they have."""
    newest: Select[*tuple[Any, ...]] = (
        Select(P.name, P.aaguid, P.device_type, P.created_at, P.last_used_at)
        .where(P.user_id == user.id)
        .order_by(P.created_at.desc(), P.id)
        .limit(SHOWN)
    )
    total = select(func.count()).select_from(Passkey).where(P.user_id == user.id)
    passkeys = [
        PasskeyRow(name, KNOWN_AAGUIDS.get(aaguid.lower()), device_type == "multi_device", created_at, last_used_at)
        for name, aaguid, device_type, created_at, last_used_at in (await db.exec(newest)).all()
    ]
    return {"passkeys": passkeys, "total": int((await db.exec(total)).one())}
