"""The organizations card on the page about one user that staff see (`UI.staff_sections`).

Read-only: which organizations the user is in, their role and since when. Bounded however many
they joined: the newest `SHOWN` and a count.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import User
from app.features.organizations.access import ROLE_LABELS
from app.features.organizations.models import Member, Organization

SHOWN = 20


async def staff_context(db: AsyncSession, user: User) -> dict[str, Any]:
    """The user's newest memberships, as (organization, member) pairs, and how many they have."""
    newest = (
        select(Organization, Member)
        .join(Member, col(Member.organization_id) == col(Organization.id))
        .where(col(Member.user_id) == user.id)
        .order_by(col(Member.created_at).desc(), col(Member.id))
        .limit(SHOWN)
    )
    total = select(func.count()).select_from(Member).where(col(Member.user_id) == user.id)
    return {
        "memberships": list((await db.exec(newest)).all()),
        "total": int((await db.exec(total)).one()),
        "roles": ROLE_LABELS,
    }
