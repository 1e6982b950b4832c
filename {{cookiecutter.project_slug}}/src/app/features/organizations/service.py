"""Organization rules: create, update, delete, members and roles, the active organization. No HTTP objects.

Every public method commits its own transaction, in which the events (and so the audit log)
run. Authorization happens in `authorize`: someone who is not a member gets 404 (the
organization's existence is not revealed), a member without the permission gets 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, Principal, Session, User
from app.core.db import utcnow
from app.core.events import RequestMeta
from app.features.organizations import access
from app.features.organizations.errors import (
    LastOwner,
    MemberNotFound,
    NotPermitted,
    OrganizationNotFound,
    RoleTooHigh,
    SlugTaken,
)
from app.features.organizations.fields import SLUG_RE, clean_logo, clean_name, clean_role, clean_slug, slugify
from app.features.organizations.models import ActiveOrganization, Member, Organization

CREATED = "organization.created"
UPDATED = "organization.updated"
DELETED = "organization.deleted"
MEMBER_ADDED = "organization.member_added"
MEMBER_REMOVED = "organization.member_removed"
MEMBER_LEFT = "organization.member_left"
ROLE_UPDATED = "organization.member_role_updated"
ACTIVE_CHANGED = "organization.active_changed"


@dataclass(frozen=True)
class Access:
    """The caller's membership in one organization, as checked for one request."""

    organization_id: uuid.UUID
    member_id: uuid.UUID
    user_id: uuid.UUID
    role: str

    def can(self, permission: str) -> bool:
        """Whether the caller's role allows `permission` ("resource:action")."""
        return access.can(self.role, permission)


def _active_query() -> Any:
    """A session's active organization, while its user is still a member of it."""
    return (
        select(ActiveOrganization.organization_id)
        .join(Session, col(Session.id) == col(ActiveOrganization.session_id))
        .join(
            Member,
            (col(Member.organization_id) == col(ActiveOrganization.organization_id))
            & (col(Member.user_id) == col(Session.user_id)),
        )
    )


class Organizations:
    """The feature's rules; one instance per app (built by the feature's setup; see web.service_for)."""

    def __init__(self, auth: AuthKit) -> None:
        self.auth = auth

    # --- reading -------------------------------------------------------------------------

    async def authorize(
        self, db: AsyncSession, user_id: uuid.UUID, organization_id: uuid.UUID | None, permission: str | None = None
    ) -> Access:
        """The caller's membership: 404 if they are not a member, 403 if their role lacks `permission`."""
        if organization_id is None:
            raise OrganizationNotFound("No organization is active: choose one first.")
        query = select(Member).where(col(Member.organization_id) == organization_id, col(Member.user_id) == user_id)
        member = (await db.exec(query)).first()
        if member is None:
            raise OrganizationNotFound()
        if permission is not None and not access.can(member.role, permission):
            raise NotPermitted()
        return Access(member.organization_id, member.id, user_id, member.role)

    async def get(self, db: AsyncSession, organization_id: uuid.UUID) -> Organization:
        """An organization by id (callers have authorized first)."""
        org = await db.get(Organization, organization_id)
        if org is None:
            raise OrganizationNotFound()
        return org

    async def by_slug(self, db: AsyncSession, slug: str) -> Organization | None:
        """An organization by slug, whoever asks (callers authorize afterwards)."""
        slug = (slug or "").strip().lower()
        if not SLUG_RE.fullmatch(slug):  # no slug can be this: no query (PostgreSQL refuses a NUL in one)
            return None
        query = select(Organization).where(col(Organization.slug) == slug)
        result: Organization | None = (await db.exec(query)).first()
        return result

    async def memberships(self, db: AsyncSession, user_id: uuid.UUID) -> list[tuple[Organization, Member]]:
        """The user's organizations and their place in each, by name."""
        query = (
            select(Organization, Member)
            .join(Member, col(Member.organization_id) == col(Organization.id))
            .where(col(Member.user_id) == user_id)
            .order_by(func.lower(Organization.name), col(Organization.created_at))
        )
        return [(org, member) for org, member in (await db.exec(query)).all()]

    async def members(self, db: AsyncSession, organization_id: uuid.UUID) -> list[tuple[Member, User]]:
        """The members of an organization with their users, owners first."""
        query = (
            select(Member, User)
            .join(User, col(User.id) == col(Member.user_id))
            .where(col(Member.organization_id) == organization_id)
            .order_by(col(Member.created_at))
        )
        rows = [(member, user) for member, user in (await db.exec(query)).all()]
        return sorted(rows, key=lambda row: -access.RANK.get(row[0].role, 0))

    async def member(self, db: AsyncSession, organization_id: uuid.UUID, member_id: uuid.UUID) -> Member:
        """A member of this organization by id; MEMBER_NOT_FOUND for anyone else's."""
        member = await db.get(Member, member_id)
        if member is None or member.organization_id != organization_id:
            raise MemberNotFound()
        return member

    async def member_by_email(self, db: AsyncSession, organization_id: uuid.UUID, email: str) -> Member:
        """A member of this organization by their user's email."""
        query = (
            select(Member)
            .join(User, col(User.id) == col(Member.user_id))
            .where(col(Member.organization_id) == organization_id, col(User.email) == email.strip().lower())
        )
        member: Member | None = (await db.exec(query)).first()
        if member is None:
            raise MemberNotFound()
        return member

    async def active_id(self, db: AsyncSession, session_id: uuid.UUID) -> uuid.UUID | None:
        """The active organization of a session, if its user is still a member of it."""
        return await self.active_id_of(db, session_id)

    @staticmethod
    async def active_id_of(db: AsyncSession, session_id: uuid.UUID) -> uuid.UUID | None:
        """`active_id` without an instance."""
        query = _active_query().where(col(ActiveOrganization.session_id) == session_id)
        found: uuid.UUID | None = (await db.exec(query)).first()
        return found

    # --- organizations -------------------------------------------------------------------

    async def _check_slug_free(self, db: AsyncSession, slug: str, but: uuid.UUID | None = None) -> None:
        existing = await self.by_slug(db, slug)
        if existing is not None and existing.id != but:
            raise SlugTaken(field="slug")

    async def create(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        principal: Principal,
        name: str,
        slug: str,
        logo: str | None = None,
        make_active: bool = True,
    ) -> Organization:
        """Create an organization; its creator is its owner, and (by default) it becomes active."""
        name = clean_name(name)
        slug = clean_slug(slug or slugify(name))
        logo = clean_logo(logo)
        await self._check_slug_free(db, slug)
        org = Organization(name=name, slug=slug, logo=logo)
        db.add(org)
        await db.flush()
        member = Member(organization_id=org.id, user_id=principal.user_id, role=access.OWNER)
        db.add(member)
        await self.auth.record(
            db, CREATED, meta, actor=principal.user_id, target_type="organization", target_id=org.id, slug=slug
        )
        await self.auth.record(
            db,
            MEMBER_ADDED,
            meta,
            actor=principal.user_id,
            target_type="member",
            target_id=member.id,
            organization_id=str(org.id),
            role="owner",
        )
        if make_active:
            await self.activate(db, principal.session_id, member)
        await self._commit(db)
        return org

    async def _commit(self, db: AsyncSession) -> None:
        """Commit; a slug taken by a concurrent request between the check and the insert is SlugTaken."""
        try:
            await db.commit()
        except IntegrityError as error:
            await db.rollback()
            raise SlugTaken(field="slug") from error

    async def update(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        caller: Access,
        name: str | None = None,
        slug: str | None = None,
        logo: str | None = None,
    ) -> Organization:
        """Change the name, slug or logo (`None` leaves a field as is, an empty logo removes it)."""
        if not caller.can("organization:update"):
            raise NotPermitted()
        org = await self.get(db, caller.organization_id)
        changed: list[str] = []
        if name is not None and (clean := clean_name(name)) != org.name:
            org.name, changed = clean, [*changed, "name"]
        if slug is not None and (clean := clean_slug(slug)) != org.slug:
            await self._check_slug_free(db, clean, but=org.id)
            org.slug, changed = clean, [*changed, "slug"]
        if logo is not None and (new_logo := clean_logo(logo)) != org.logo:
            org.logo, changed = new_logo, [*changed, "logo"]
        if changed:
            org.updated_at = utcnow()
            db.add(org)
            await self.auth.record(
                db, UPDATED, meta, actor=caller.user_id, target_type="organization", target_id=org.id, fields=changed
            )
        await self._commit(db)
        return org

    async def delete(self, db: AsyncSession, meta: RequestMeta, principal: Principal, caller: Access) -> None:
        """Delete the organization with its members and invitations: owners only, fresh session."""
        if not caller.can("organization:delete"):
            raise NotPermitted("Only an owner can delete the organization.")
        self.auth.require_fresh(principal)
        org = await self.get(db, caller.organization_id)
        await self.auth.record(
            db, DELETED, meta, actor=caller.user_id, target_type="organization", target_id=org.id, slug=org.slug
        )
        await db.delete(org)
        await db.commit()

    # --- members -------------------------------------------------------------------------

    async def _lock(self, db: AsyncSession, organization_id: uuid.UUID) -> None:
        """Serialise changes to one organization's owners (a row lock on PostgreSQL; SQLite writes one at a time)."""
        await db.exec(select(Organization.id).where(col(Organization.id) == organization_id).with_for_update())

    async def _owners(self, db: AsyncSession, organization_id: uuid.UUID) -> int:
        query = select(func.count()).where(
            col(Member.organization_id) == organization_id, col(Member.role) == access.OWNER
        )
        return int((await db.exec(query)).one())

    async def add_member(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        actor: uuid.UUID | None,
        organization_id: uuid.UUID,
        user_id: uuid.UUID,
        role: str,
    ) -> Member:
        """Add a user (in the caller's transaction, which the caller commits)."""
        member = Member(organization_id=organization_id, user_id=user_id, role=role)
        db.add(member)
        await db.flush()
        await self.auth.record(
            db,
            MEMBER_ADDED,
            meta,
            actor=actor,
            target_type="member",
            target_id=member.id,
            organization_id=str(organization_id),
            role=role,
        )
        return member

    async def update_role(
        self, db: AsyncSession, meta: RequestMeta, caller: Access, member_id: uuid.UUID, role: str
    ) -> Member:
        """Change a member's role: never above the caller's own, never the last owner's."""
        if not caller.can("member:update"):
            raise NotPermitted()
        role = clean_role(role)
        await self._lock(db, caller.organization_id)
        target = await self.member(db, caller.organization_id, member_id)
        if not access.can_grant(caller.role, role) or access.outranks(target.role, caller.role):
            raise RoleTooHigh()
        if target.role == role:
            return target
        if target.role == access.OWNER and await self._owners(db, caller.organization_id) <= 1:
            raise LastOwner()
        old, target.role = target.role, role
        db.add(target)
        await self.auth.record(
            db,
            ROLE_UPDATED,
            meta,
            actor=caller.user_id,
            target_type="member",
            target_id=target.id,
            organization_id=str(caller.organization_id),
            old_role=old,
            role=role,
        )
        await db.commit()
        return target

    async def remove_member(self, db: AsyncSession, meta: RequestMeta, caller: Access, target: Member) -> None:
        """Remove a member (not one above the caller, never the last owner)."""
        if target.id != caller.member_id and not caller.can("member:delete"):
            raise NotPermitted()
        if access.outranks(target.role, caller.role):
            raise RoleTooHigh("You cannot remove a member whose role is above your own.")
        await self._lock(db, caller.organization_id)
        if target.role == access.OWNER and await self._owners(db, caller.organization_id) <= 1:
            raise LastOwner()
        left = target.id == caller.member_id
        await self._forget_active(db, target)
        await db.delete(target)
        await self.auth.record(
            db,
            MEMBER_LEFT if left else MEMBER_REMOVED,
            meta,
            actor=caller.user_id,
            target_type="member",
            target_id=target.id,
            organization_id=str(caller.organization_id),
            user_id=str(target.user_id),
        )
        await db.commit()

    async def leave(self, db: AsyncSession, meta: RequestMeta, caller: Access) -> None:
        """The caller leaves the organization (unless they are its last owner)."""
        target = await self.member(db, caller.organization_id, caller.member_id)
        await self.remove_member(db, meta, caller, target)

    # --- the active organization ---------------------------------------------------------

    async def _forget_active(self, db: AsyncSession, member: Member) -> None:
        sessions = select(Session.id).where(col(Session.user_id) == member.user_id)
        await db.exec(
            delete(ActiveOrganization).where(
                col(ActiveOrganization.organization_id) == member.organization_id,
                col(ActiveOrganization.session_id).in_(sessions),
            )
        )

    async def activate(self, db: AsyncSession, session_id: uuid.UUID, member: Member | None) -> None:
        """Make `member`'s organization (or none) the session's active one, in the caller's transaction."""
        await db.exec(delete(ActiveOrganization).where(col(ActiveOrganization.session_id) == session_id))
        if member is not None:
            db.add(ActiveOrganization(session_id=session_id, organization_id=member.organization_id))
            await db.exec(update(Member).where(col(Member.id) == member.id).values(last_active_at=utcnow()))

    async def set_active(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, organization_id: uuid.UUID | None
    ) -> Organization | None:
        """Make an organization of the user's (or none) the session's active one; remembered for the next sign-in."""
        org = None
        member = None
        if organization_id is not None:
            caller = await self.authorize(db, principal.user_id, organization_id)
            member = await self.member(db, caller.organization_id, caller.member_id)
            org = await self.get(db, organization_id)
        await self.activate(db, principal.session_id, member)
        await self.auth.record(
            db,
            ACTIVE_CHANGED,
            meta,
            actor=principal.user_id,
            target_type="session",
            target_id=principal.session_id,
            organization_id=str(organization_id) if organization_id else None,
        )
        await db.commit()
        return org
