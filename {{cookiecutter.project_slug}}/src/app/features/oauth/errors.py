"""The refusals of the OAuth flows, with stable codes (see app.core.errors)."""

from __future__ import annotations

from app.core.errors import AppError


class OAuthRefused(AppError):
    """A callback we do not accept: bad state, a token that does not check out, a provider error."""

    code = "OAUTH_FAILED"
    status_code = 400
    default_message = "The sign-in could not be completed. Start again."

    def __init__(self, message: str | None = None, *, reason: str = "refused", intent: str = "sign-in") -> None:
        super().__init__(message)
        self.reason = reason
        self.intent = intent
        self.error_redirect: str | None = None


class AccountNotLinked(OAuthRefused):
    """The provider's address belongs to a local user who must link the provider themselves."""

    code = "ACCOUNT_NOT_LINKED"
    status_code = 409


class ProviderNotFound(AppError):
    code = "PROVIDER_NOT_FOUND"
    status_code = 404
    default_message = "This sign-in provider is not available."


class CannotUnlinkLast(AppError):
    code = "FAILED_TO_UNLINK_LAST_ACCOUNT"
    status_code = 400
    default_message = "This is your only way to sign in: add another one before removing it."


class AccountNotFound(AppError):
    code = "ACCOUNT_NOT_FOUND"
    status_code = 404
    default_message = "That linked account does not exist."
