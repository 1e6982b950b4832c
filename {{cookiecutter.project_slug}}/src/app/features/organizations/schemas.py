"""JSON shapes of the organization API, camelCase as Better Auth's organization plugin writes them."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from app.auth import User, iso
from app.features.organizations.models import Invitation, Member, Organization

Text = Annotated[str, msgspec.Meta(max_length=4096)]
Id = Annotated[str, msgspec.Meta(max_length=64)]


class CreateOrganization(msgspec.Struct):
    name: Text
    slug: Text = ""
    logo: Text | None = None
    keep_current_active: bool = msgspec.field(default=False, name="keepCurrentActiveOrganization")


class OrganizationChanges(msgspec.Struct):
    name: Text | None = None
    slug: Text | None = None
    logo: Text | None = None


class UpdateOrganization(msgspec.Struct):
    data: OrganizationChanges
    organization_id: Id | None = msgspec.field(default=None, name="organizationId")


class OrganizationRef(msgspec.Struct):
    organization_id: Id | None = msgspec.field(default=None, name="organizationId")


class SetActive(msgspec.Struct):
    organization_id: Id | None = msgspec.field(default=None, name="organizationId")
    organization_slug: Text | None = msgspec.field(default=None, name="organizationSlug")


class InviteMember(msgspec.Struct):
    email: Text
    role: Text = "member"
    organization_id: Id | None = msgspec.field(default=None, name="organizationId")
    resend: bool = False


class InvitationToken(msgspec.Struct):
    """Better Auth sends `invitationId`; here the secret is the emailed link's token."""

    token: Text


class InvitationRef(msgspec.Struct):
    invitation_id: Id = msgspec.field(name="invitationId")


class RemoveMember(msgspec.Struct):
    member_id_or_email: Text = msgspec.field(name="memberIdOrEmail")
    organization_id: Id | None = msgspec.field(default=None, name="organizationId")


class UpdateMemberRole(msgspec.Struct):
    member_id: Id = msgspec.field(name="memberId")
    role: Text
    organization_id: Id | None = msgspec.field(default=None, name="organizationId")


def organization_json(org: Organization) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "slug": org.slug,
        "logo": org.logo,
        "createdAt": iso(org.created_at),
        "metadata": None,
    }


def member_json(member: Member, user: User | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(member.id),
        "organizationId": str(member.organization_id),
        "userId": str(member.user_id),
        "role": member.role,
        "createdAt": iso(member.created_at),
    }
    if user is not None:
        body["user"] = {"id": str(user.id), "name": user.name, "email": user.email, "image": user.image}
    return body


def invitation_json(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": str(invitation.id),
        "organizationId": str(invitation.organization_id),
        "email": invitation.email,
        "role": invitation.role,
        "status": invitation.status,
        "inviterId": str(invitation.inviter_id) if invitation.inviter_id else None,
        "expiresAt": iso(invitation.expires_at),
        "createdAt": iso(invitation.created_at),
    }
