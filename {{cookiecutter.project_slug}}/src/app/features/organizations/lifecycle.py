"""What the feature does when the auth core signs someone in or deletes an account (event listeners).

Both run inside the transaction of the operation: raising refuses it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.events import Event
from app.features.organizations import access
from app.features.organizations.errors import LastOwner
from app.features.organizations.models import ActiveOrganization, Member, Organization


async def activate_last_used(db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """At sign-in: the organization the user last made active (else the first they joined) becomes active."""
    query = (
        select(Member.organization_id)
        .where(col(Member.user_id) == user_id)
        .order_by(col(Member.last_active_at).desc().nulls_last(), col(Member.created_at))
        .limit(1)
    )
    organization_id = (await db.exec(query)).first()
    if organization_id is not None:
        db.add(ActiveOrganization(session_id=session_id, organization_id=organization_id))


async def before_account_deletion(db: AsyncSession, user_id: uuid.UUID) -> None:
    """A user who deletes their account: refused while they are the last owner of an organization with other
    members (it would be left without an owner); organizations where they are alone go with them."""
    owned = (
        await db.exec(
            select(Member.organization_id).where(col(Member.user_id) == user_id, col(Member.role) == access.OWNER)
        )
    ).all()
    for organization_id in owned:
        owners = select(func.count()).where(
            col(Member.organization_id) == organization_id, col(Member.role) == access.OWNER
        )
        if int((await db.exec(owners)).one()) > 1:
            continue
        everyone = select(func.count()).where(col(Member.organization_id) == organization_id)
        if int((await db.exec(everyone)).one()) > 1:
            org = await db.get(Organization, organization_id)
            name = org.name if org else "an organization"
            raise LastOwner(f"You are the last owner of {name}: make someone else owner, or delete it, first.")
        await db.exec(delete(Organization).where(col(Organization.id) == organization_id))


async def on_session_created(db: AsyncSession, event: Event) -> None:
    """Whatever way the user signed in, their last-used organization is active in the new session."""
    if event.actor_id is not None and event.target_id is not None:
        await activate_last_used(db, event.actor_id, uuid.UUID(event.target_id))


async def on_user_deleted(db: AsyncSession, event: Event) -> None:
    """Runs before the user row goes: never leave an organization without an owner."""
    if event.actor_id is not None:
        await before_account_deletion(db, event.actor_id)
