"""Invitations by email: issue, resend, cancel, accept, decline. No HTTP objects here.

The link's token is single-use and only its SHA-256 is stored; it expires after 48 hours and
is bound to the invited address: accepting it while signed in as someone else is refused.
Resending mails a new link and makes the old one useless.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import Principal, User
from app.core.crypto import hash_token, new_token, usable_token
from app.core.db import utcnow
from app.core.events import RequestMeta
from app.features.organizations import access
from app.features.organizations.errors import (
    AlreadyInvited,
    AlreadyMember,
    InvalidInvitation,
    InvitationNotFound,
    NotPermitted,
    RoleTooHigh,
    WrongRecipient,
)
from app.features.organizations.fields import clean_role
from app.features.organizations.models import Invitation, Member, Organization
from app.features.organizations.service import Access, Organizations

INVITATION_TTL = timedelta(hours=48)
ACCEPT_PATH = "/invitations/accept"
PENDING, ACCEPTED, REJECTED, CANCELED = "pending", "accepted", "rejected", "canceled"

INVITED = "organization.invitation_created"
RESENT = "organization.invitation_resent"
CANCELED_EVENT = "organization.invitation_canceled"
ACCEPTED_EVENT = "organization.invitation_accepted"
REJECTED_EVENT = "organization.invitation_rejected"


@dataclass(frozen=True)
class InvitationView:
    """What the acceptance page shows about an invitation."""

    invitation: Invitation
    organization: Organization
    inviter_name: str | None


class Invitations:
    """Invitation rules, on top of the organization rules."""

    def __init__(self, orgs: Organizations) -> None:
        self.orgs = orgs
        self.auth = orgs.auth

    async def pending(self, db: AsyncSession, organization_id: uuid.UUID) -> list[Invitation]:
        """The organization's invitations still waiting for an answer (expired ones included), newest first."""
        query = (
            select(Invitation)
            .where(col(Invitation.organization_id) == organization_id, col(Invitation.status) == PENDING)
            .order_by(col(Invitation.created_at).desc())
        )
        return list((await db.exec(query)).all())

    async def get(self, db: AsyncSession, organization_id: uuid.UUID, invitation_id: uuid.UUID) -> Invitation:
        """An invitation of this organization; INVITATION_NOT_FOUND for anyone else's."""
        invitation = await db.get(Invitation, invitation_id)
        if invitation is None or invitation.organization_id != organization_id:
            raise InvitationNotFound()
        return invitation

    async def organization_of(self, db: AsyncSession, invitation_id: uuid.UUID) -> uuid.UUID | None:
        """The organization an invitation belongs to (for authorizing a request that names only the invitation)."""
        invitation = await db.get(Invitation, invitation_id)
        return invitation.organization_id if invitation else None

    def _mail(self, org: Organization, invitation: Invitation, token: str, inviter: str) -> None:
        self.auth.send_mail(
            invitation.email,
            "organization_invitation",
            organization=org.name,
            inviter=inviter,
            role=access.ROLE_LABELS.get(invitation.role, invitation.role),
            url=self.auth.link(ACCEPT_PATH, token=token),
            hours=int(INVITATION_TTL.total_seconds() // 3600),
        )

    async def invite(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        caller: Access,
        inviter_name: str,
        email: str,
        role: str,
        resend: bool = False,
    ) -> Invitation:
        """Mail an invitation to join with `role` (at most the caller's own); `resend` renews a pending one."""
        if not caller.can("invitation:create"):
            raise NotPermitted()
        email = self.auth.normalize_email(email)
        role = clean_role(role)
        if not access.can_grant(caller.role, role):
            raise RoleTooHigh()
        member = (
            await db.exec(
                select(Member.id)
                .join(User, col(User.id) == col(Member.user_id))
                .where(col(Member.organization_id) == caller.organization_id, col(User.email) == email)
            )
        ).first()
        if member is not None:
            raise AlreadyMember(field="email")
        existing = (
            await db.exec(
                select(Invitation).where(
                    col(Invitation.organization_id) == caller.organization_id,
                    col(Invitation.email) == email,
                    col(Invitation.status) == PENDING,
                )
            )
        ).first()
        if existing is not None and not resend:
            raise AlreadyInvited(field="email")
        await self.auth.spend_mail_budget(email)
        token = new_token()
        if existing is not None:
            invitation = existing
            invitation.role = role
        else:
            invitation = Invitation(organization_id=caller.organization_id, email=email, role=role, expires_at=utcnow())
        invitation.token_hash = hash_token(token)
        invitation.inviter_id = caller.user_id
        invitation.expires_at = utcnow() + INVITATION_TTL
        db.add(invitation)
        await db.flush()
        await self.auth.record(
            db,
            RESENT if existing is not None else INVITED,
            meta,
            actor=caller.user_id,
            target_type="invitation",
            target_id=invitation.id,
            organization_id=str(caller.organization_id),
            role=role,
        )
        org = await self.orgs.get(db, caller.organization_id)
        await db.commit()
        self._mail(org, invitation, token, inviter_name)
        return invitation

    async def resend(
        self, db: AsyncSession, meta: RequestMeta, caller: Access, inviter_name: str, invitation_id: uuid.UUID
    ) -> Invitation:
        """Mail a pending invitation again, with a new link and 48 more hours."""
        invitation = await self.get(db, caller.organization_id, invitation_id)
        if invitation.status != PENDING:
            raise InvitationNotFound()
        return await self.invite(db, meta, caller, inviter_name, invitation.email, invitation.role, resend=True)

    async def cancel(self, db: AsyncSession, meta: RequestMeta, caller: Access, invitation_id: uuid.UUID) -> Invitation:
        """Withdraw a pending invitation: its link stops working."""
        if not caller.can("invitation:cancel"):
            raise NotPermitted()
        invitation = await self.get(db, caller.organization_id, invitation_id)
        if invitation.status != PENDING:
            raise InvitationNotFound()
        invitation.status, invitation.token_hash = CANCELED, None
        db.add(invitation)
        await self.auth.record(
            db,
            CANCELED_EVENT,
            meta,
            actor=caller.user_id,
            target_type="invitation",
            target_id=invitation.id,
            organization_id=str(invitation.organization_id),
        )
        await db.commit()
        return invitation

    async def by_token(self, db: AsyncSession, token: str) -> InvitationView:
        """The pending, unexpired invitation behind a link; INVALID_INVITATION otherwise."""
        if not usable_token(token):
            raise InvalidInvitation()
        invitation = (await db.exec(select(Invitation).where(col(Invitation.token_hash) == hash_token(token)))).first()
        if invitation is None or invitation.status != PENDING or invitation.expires_at <= utcnow():
            raise InvalidInvitation()
        org = await self.orgs.get(db, invitation.organization_id)
        inviter = await db.get(User, invitation.inviter_id) if invitation.inviter_id else None
        return InvitationView(invitation, org, inviter.name if inviter else None)

    async def _use(self, db: AsyncSession, invitation: Invitation, status: str) -> None:
        """Spend the token once: a second request racing this one finds nothing to update."""
        done = await db.exec(
            update(Invitation)
            .where(col(Invitation.id) == invitation.id, col(Invitation.status) == PENDING)
            .values(status=status, token_hash=None)
        )
        if done.rowcount != 1:
            await db.rollback()
            raise InvalidInvitation()

    async def accept(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, token: str
    ) -> tuple[Invitation, Member]:
        """Join the organization; only the invited address may, and the organization becomes active."""
        view = await self.by_token(db, token)
        invitation = view.invitation
        if principal.email.lower() != invitation.email:
            raise WrongRecipient()
        already = (
            await db.exec(
                select(Member).where(
                    col(Member.organization_id) == invitation.organization_id, col(Member.user_id) == principal.user_id
                )
            )
        ).first()
        if already is not None:
            raise AlreadyMember()
        await self._use(db, invitation, ACCEPTED)
        member = await self.orgs.add_member(
            db, meta, principal.user_id, invitation.organization_id, principal.user_id, invitation.role
        )
        await self.auth.record(
            db,
            ACCEPTED_EVENT,
            meta,
            actor=principal.user_id,
            target_type="invitation",
            target_id=invitation.id,
            organization_id=str(invitation.organization_id),
            role=invitation.role,
        )
        await self.orgs.activate(db, principal.session_id, member)
        await db.commit()
        await db.refresh(invitation)
        return invitation, member

    async def reject(self, db: AsyncSession, meta: RequestMeta, principal: Principal | None, token: str) -> Invitation:
        """Decline from the link: holding the mailed token is enough, signed in or not."""
        view = await self.by_token(db, token)
        invitation = view.invitation
        if principal is not None and principal.email.lower() != invitation.email:
            raise WrongRecipient()
        await self._use(db, invitation, REJECTED)
        await self.auth.record(
            db,
            REJECTED_EVENT,
            meta,
            actor=principal.user_id if principal else None,
            target_type="invitation",
            target_id=invitation.id,
            organization_id=str(invitation.organization_id),
        )
        await db.commit()
        await db.refresh(invitation)
        return invitation
