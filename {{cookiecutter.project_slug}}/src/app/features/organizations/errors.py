"""The feature's typed errors: stable codes (Better Auth's where it has one), statuses, messages."""

from __future__ import annotations

from app.core.errors import AppError


class OrganizationNotFound(AppError):
    """Also the answer for an organization the caller is not a member of: its existence is not revealed."""

    code = "ORGANIZATION_NOT_FOUND"
    status_code = 404
    default_message = "Organization not found."


class MemberNotFound(AppError):
    code = "MEMBER_NOT_FOUND"
    status_code = 404
    default_message = "Member not found."


class InvitationNotFound(AppError):
    code = "INVITATION_NOT_FOUND"
    status_code = 404
    default_message = "Invitation not found."


class InvalidInvitation(AppError):
    code = "INVALID_INVITATION"
    status_code = 400
    default_message = "This invitation link is invalid, has expired or has already been used."


class NotPermitted(AppError):
    code = "FORBIDDEN"
    status_code = 403
    default_message = "Your role in this organization does not allow this."


class RoleTooHigh(AppError):
    code = "ROLE_ABOVE_YOUR_OWN"
    status_code = 403
    default_message = "You cannot give a role above your own."


class LastOwner(AppError):
    code = "LAST_OWNER"
    status_code = 400
    default_message = "An organization needs an owner: make someone else owner first."


class SlugTaken(AppError):
    code = "ORGANIZATION_SLUG_ALREADY_TAKEN"
    status_code = 400
    default_message = "This slug is already used by another organization."


class AlreadyMember(AppError):
    code = "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION"
    status_code = 400
    default_message = "This person is already a member of the organization."


class AlreadyInvited(AppError):
    code = "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION"
    status_code = 400
    default_message = "This address already has a pending invitation. Resend it instead."


class WrongRecipient(AppError):
    code = "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION"
    status_code = 403
    default_message = "This invitation was sent to another email address. Sign in with that address to accept it."
