"""The console's typed errors: Better Auth's admin plugin's codes, statuses and messages where it has them."""

from __future__ import annotations

from app.core.errors import AppError


class UserNotFound(AppError):
    code = "USER_NOT_FOUND"
    status_code = 404
    default_message = "User not found."


class NotAllowed(AppError):
    """A console user whose role lacks the permission (Better Auth's YOU_ARE_NOT_ALLOWED_TO_... codes)."""

    code = "FORBIDDEN"
    status_code = 403
    default_message = "Your role does not allow this."


class RoleAboveYourOwn(AppError):
    code = "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE"
    status_code = 403
    default_message = "You cannot give or take away a role with permissions you do not hold."


class UnknownRole(AppError):
    code = "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE"
    status_code = 400
    default_message = "You are not allowed to set a non-existent role value."


class LastAdmin(AppError):
    code = "LAST_ADMIN"
    status_code = 400
    default_message = "This is the last admin: make someone else admin first."


class CannotBanYourself(AppError):
    code = "YOU_CANNOT_BAN_YOURSELF"
    status_code = 400
    default_message = "You cannot ban yourself."


class CannotRemoveYourself(AppError):
    code = "YOU_CANNOT_REMOVE_YOURSELF"
    status_code = 400
    default_message = "You cannot remove yourself."


class UserExists(AppError):
    code = "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"
    status_code = 400
    default_message = "User already exists. Use another email."


class CannotImpersonateAdmins(AppError):
    code = "YOU_CANNOT_IMPERSONATE_ADMINS"
    status_code = 403
    default_message = "You cannot impersonate someone who can use the admin console."


class CannotImpersonate(AppError):
    """Oneself, or a banned user."""

    code = "YOU_CANNOT_IMPERSONATE_THIS_USER"
    status_code = 400
    default_message = "You cannot impersonate this user."
