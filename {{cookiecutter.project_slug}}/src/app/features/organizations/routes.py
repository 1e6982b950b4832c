"""JSON API of organizations under /api/auth/organization/, with the paths of Better Auth's organization plugin.

The organization concerned comes from `organizationId` (body or query) or, when it is left out,
the session's active organization. Outsiders get 404, members without the permission 403
(see app.features.organizations.web.requires_permission).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from app.auth import DB, CurrentUser, request_meta
from app.core.errors import SessionNotFresh, TooManyAttempts
from app.core.openapi import raises
from app.features.organizations import schemas
from app.features.organizations.errors import (
    AlreadyInvited,
    AlreadyMember,
    InvalidInvitation,
    InvitationNotFound,
    LastOwner,
    MemberNotFound,
    OrganizationNotFound,
    RoleTooHigh,
    SlugTaken,
    WrongRecipient,
)
from app.features.organizations.invitations import Invitations
from app.features.organizations.service import Access, Organizations
from app.features.organizations.web import (
    drop_session_snapshot,
    provide_access,
    provide_invitations,
    provide_organizations,
    scoped,
)

Orgs = NamedDependency[Organizations]
Invites = NamedDependency[Invitations]
Caller = NamedDependency[Access]


def _id(raw: str, error: type[Exception]) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise error() from None


@post("/create", status_code=200)
@raises(SlugTaken)
async def create_organization(
    request: Request[Any, Any, Any], data: JSONBody[schemas.CreateOrganization], db: DB, user: CurrentUser, orgs: Orgs
) -> dict[str, Any]:
    """Create an organization; the caller is its owner, and it becomes active unless asked otherwise."""
    org = await orgs.create(
        db, request_meta(request), user, data.name, data.slug, data.logo, make_active=not data.keep_current_active
    )
    members = await orgs.members(db, org.id)
    return schemas.organization_json(org) | {"members": [schemas.member_json(m, u) for m, u in members]}


@post("/update", status_code=200, **scoped("organization:update"))
@raises(SlugTaken)
async def update_organization(
    request: Request[Any, Any, Any], data: JSONBody[schemas.UpdateOrganization], db: DB, caller: Caller, orgs: Orgs
) -> dict[str, Any]:
    """Change the name, slug or logo."""
    changes = data.data
    org = await orgs.update(db, request_meta(request), caller, changes.name, changes.slug, changes.logo)
    return schemas.organization_json(org)


@post("/delete", status_code=200, **scoped("organization:delete"))
@raises(SessionNotFresh)
async def delete_organization(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.OrganizationRef],
    db: DB,
    user: CurrentUser,
    caller: Caller,
    orgs: Orgs,
) -> dict[str, Any]:
    """Delete the organization (owner, fresh session): members, invitations and all."""
    await orgs.delete(db, request_meta(request), user, caller)
    return {"status": True, "organizationId": str(caller.organization_id)}


@get("/list")
async def list_organizations(db: DB, user: CurrentUser, orgs: Orgs) -> list[dict[str, Any]]:
    """The caller's organizations."""
    return [schemas.organization_json(org) for org, _ in await orgs.memberships(db, user.user_id)]


@post("/set-active", status_code=200)
@raises(OrganizationNotFound)
async def set_active_organization(
    request: Request[Any, Any, Any], data: JSONBody[schemas.SetActive], db: DB, user: CurrentUser, orgs: Orgs
) -> dict[str, Any] | None:
    """Make one of the caller's organizations active for this session (`null` for none)."""
    organization_id = _id(data.organization_id, OrganizationNotFound) if data.organization_id else None
    if organization_id is None and data.organization_slug:
        found = await orgs.by_slug(db, data.organization_slug)
        if found is None:
            raise OrganizationNotFound()
        organization_id = found.id
    org = await orgs.set_active(db, request_meta(request), user, organization_id)
    return schemas.organization_json(org) if org else None


@get("/get-full-organization", **scoped())
@raises(OrganizationNotFound)
async def get_full_organization(db: DB, caller: Caller, orgs: Orgs, invitations: Invites) -> dict[str, Any]:
    """The organization (`organizationId` or the active one) with its members and pending invitations."""
    org = await orgs.get(db, caller.organization_id)
    members = await orgs.members(db, org.id)
    pending = await invitations.pending(db, org.id)
    return schemas.organization_json(org) | {
        "members": [schemas.member_json(m, u) for m, u in members],
        "invitations": [schemas.invitation_json(i) for i in pending],
    }


@post("/invite-member", status_code=200, **scoped("invitation:create"))
@raises(RoleTooHigh, AlreadyMember, AlreadyInvited, TooManyAttempts)
async def invite_member(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.InviteMember],
    db: DB,
    user: CurrentUser,
    caller: Caller,
    invitations: Invites,
) -> dict[str, Any]:
    """Mail an invitation (`resend: true` renews a pending one)."""
    invitation = await invitations.invite(
        db, request_meta(request), caller, user.name, data.email, data.role, resend=data.resend
    )
    return schemas.invitation_json(invitation)


@post("/accept-invitation", status_code=200)
@raises(InvalidInvitation, WrongRecipient, AlreadyMember)
async def accept_invitation(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.InvitationToken],
    db: DB,
    user: CurrentUser,
    invitations: Invites,
) -> dict[str, Any]:
    """Join with the emailed link's token; only the invited address may."""
    invitation, member = await invitations.accept(db, request_meta(request), user, data.token)
    return {"invitation": schemas.invitation_json(invitation), "member": schemas.member_json(member)}


@post("/reject-invitation", status_code=200)
@raises(InvalidInvitation, WrongRecipient)
async def reject_invitation(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.InvitationToken],
    db: DB,
    user: CurrentUser,
    invitations: Invites,
) -> dict[str, Any]:
    """Decline with the emailed link's token."""
    invitation = await invitations.reject(db, request_meta(request), user, data.token)
    return {"invitation": schemas.invitation_json(invitation), "member": None}


@post("/cancel-invitation", status_code=200, **scoped("invitation:cancel"))
@raises(InvitationNotFound)
async def cancel_invitation(
    request: Request[Any, Any, Any], data: JSONBody[schemas.InvitationRef], db: DB, caller: Caller, invitations: Invites
) -> dict[str, Any]:
    """Withdraw a pending invitation."""
    invitation_id = _id(data.invitation_id, InvitationNotFound)
    return schemas.invitation_json(await invitations.cancel(db, request_meta(request), caller, invitation_id))


@get("/list-invitations", **scoped())
async def list_invitations(db: DB, caller: Caller, invitations: Invites) -> list[dict[str, Any]]:
    """The organization's pending invitations."""
    return [schemas.invitation_json(i) for i in await invitations.pending(db, caller.organization_id)]


@get("/list-members", **scoped())
async def list_members(db: DB, caller: Caller, orgs: Orgs) -> dict[str, Any]:
    """The organization's members, owners first."""
    members = await orgs.members(db, caller.organization_id)
    return {"members": [schemas.member_json(m, u) for m, u in members], "total": len(members)}


@post("/remove-member", status_code=200, **scoped("member:delete"))
@raises(MemberNotFound, RoleTooHigh, LastOwner)
async def remove_member(
    request: Request[Any, Any, Any], data: JSONBody[schemas.RemoveMember], db: DB, caller: Caller, orgs: Orgs
) -> dict[str, Any]:
    """Remove a member by id or email."""
    key = data.member_id_or_email
    if "@" in key:
        target = await orgs.member_by_email(db, caller.organization_id, key)
    else:
        target = await orgs.member(db, caller.organization_id, _id(key, MemberNotFound))
    await orgs.remove_member(db, request_meta(request), caller, target)
    return {"member": schemas.member_json(target)}


@post("/update-member-role", status_code=200, **scoped("member:update"))
@raises(MemberNotFound, RoleTooHigh, LastOwner)
async def update_member_role(
    request: Request[Any, Any, Any], data: JSONBody[schemas.UpdateMemberRole], db: DB, caller: Caller, orgs: Orgs
) -> dict[str, Any]:
    """Change a member's role (never above the caller's own; never the last owner's)."""
    member_id = _id(data.member_id, MemberNotFound)
    member = await orgs.update_role(db, request_meta(request), caller, member_id, data.role)
    return schemas.member_json(member)


@post("/leave", status_code=200, **scoped())
@raises(LastOwner)
async def leave_organization(
    request: Request[Any, Any, Any], data: JSONBody[schemas.OrganizationRef], db: DB, caller: Caller, orgs: Orgs
) -> dict[str, Any]:
    """Leave the organization (not as its last owner)."""
    await orgs.leave(db, request_meta(request), caller)
    return {"status": True}


API = Router(
    "/api/auth/organization",
    route_handlers=[
        create_organization,
        update_organization,
        delete_organization,
        list_organizations,
        set_active_organization,
        get_full_organization,
        invite_member,
        accept_invitation,
        reject_invitation,
        cancel_invitation,
        list_invitations,
        list_members,
        remove_member,
        update_member_role,
        leave_organization,
    ],
    dependencies={
        "orgs": Provide(provide_organizations, sync_to_thread=False),
        "invitations": Provide(provide_invitations, sync_to_thread=False),
        "caller": Provide(provide_access, sync_to_thread=False),
    },
    tags=["organization"],
    middleware=[drop_session_snapshot],
)
