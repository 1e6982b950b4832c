"""What the users list shows beside each account: the last sign-in and the second factors enrolled.

Read for the whole page at once (two queries, however many rows), never a query per row. The
last sign-in is the newest `session.created` audit entry of each user; the second factors are
those the auth kit's gate knows (any feature's, through `SecondFactor.enrolled_when`), so this
module names no feature. Neither is part of the JSON API's user, which keeps Better Auth's shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, User
from app.core.audit import AuditLog
from app.core.events import EventName

A = AuditLog.__table__.c  # type: ignore[attr-defined]
U = User.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Activity:
    """One user's row extras: when they last signed in (None: the log has no sign-in) and their factors."""

    last_sign_in: datetime | None
    second_factors: tuple[str, ...]  # the factors' labels ("Authenticator app", "Passkey" ...)


async def last_sign_ins(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Each user's newest sign-in, as the audit log has it; users without one are left out."""
    if not user_ids:
        return {}
    newest = await db.exec(
        select(A.actor_id, func.max(A.created_at))
        .where(A.actor_id.in_(user_ids), A.event == EventName.SESSION_CREATED)
        .group_by(A.actor_id)
    )
    return dict(newest.all())  # max() keeps the column's type: aware UTC datetimes


async def second_factors(
    db: AsyncSession, kit: AuthKit, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """The labels of the factors each user can pass, in the gate's order (empty: none)."""
    factors, columns = kit.gate.enrolment(U.id)
    if not user_ids or not factors:
        return dict.fromkeys(user_ids, ())
    rows = await db.exec(select(U.id, *columns).where(U.id.in_(user_ids)))
    return {row.id: tuple(f.label for f in kit.gate.enrolled_in(factors, row._mapping)) for row in rows.all()}


async def page_activity(db: AsyncSession, kit: AuthKit, users: Sequence[User]) -> dict[uuid.UUID, Activity]:
    """The extras of a page of users, by user id."""
    ids = [user.id for user in users]
    signed_in = await last_sign_ins(db, ids)
    factors = await second_factors(db, kit, ids)
    return {user_id: Activity(signed_in.get(user_id), factors.get(user_id, ())) for user_id in ids}
