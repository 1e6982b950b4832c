"""The OAuth flows: start an authorization request, finish it at the callback, link and unlink.

Every request carries a random single-use `state` (stored hashed, bound to the browser by a
cookie), PKCE S256 and, for OpenID Connect, a nonce. Identities are keyed by (issuer, subject);
an email only ever links to an existing user when the provider and this app both verified it.
Every sign-in ends in `AuthKit.open_session`, so the second-factor gate applies to it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, Principal, SignInOutcome, User
from app.core.crypto import SecretBox, new_token
from app.core.db import utcnow
from app.core.errors import InvalidInput
from app.core.events import RequestMeta
from app.features.oauth import states
from app.features.oauth.accounts import LinkedAccounts
from app.features.oauth.client import ProviderClient, ProviderError
from app.features.oauth.errors import (
    AccountNotFound,
    AccountNotLinked,
    CannotUnlinkLast,
    OAuthRefused,
    ProviderNotFound,
)
from app.features.oauth.models import OAuthAccount, OAuthState
from app.features.oauth.profiles import Profile, read_profile, with_apple_name
from app.features.oauth.providers import Provider, enabled_providers
from app.features.oauth.settings import OAuthSettings

SIGN_IN, LINK = "sign-in", "link"
CALLBACK_PATH = "/api/auth/callback/{provider:str}"
ACCOUNT_LINKED = "oauth.account_linked"
ACCOUNT_UNLINKED = "oauth.account_unlinked"
SIGN_IN_REFUSED = "oauth.sign_in_refused"


def callback_path(provider: str) -> str:
    """The callback's path for one provider."""
    return f"/api/auth/callback/{provider}"


@dataclass(frozen=True)
class Finished:
    """A callback that went through: a new session, or a provider linked to the signed-in user."""

    intent: str
    provider: Provider
    redirect_to: str
    result: SignInOutcome | None = None  # None when a provider was linked


class OAuthService:
    """The feature's rules; one instance per app, built by the feature's setup (see web.service_for)."""

    def __init__(self, auth: AuthKit, oauth: OAuthSettings) -> None:
        self.auth = auth
        self.oauth = oauth
        self.providers = enabled_providers(oauth)
        self.clients = {name: ProviderClient(p, oauth.http_timeout) for name, p in self.providers.items()}
        secrets = auth.settings.secrets
        self.accounts = LinkedAccounts(SecretBox(secrets.secret_key, "oauth-tokens", secrets.secret_key_fallbacks))

    def provider(self, name: str) -> Provider:
        """An enabled provider by name; ProviderNotFound otherwise."""
        provider = self.providers.get(name)
        if provider is None:
            raise ProviderNotFound()
        return provider

    def callback_url(self, provider: Provider) -> str:
        """The redirect URI registered at the provider (see docs/oauth.md)."""
        return self.auth.settings.app.base_url.rstrip("/") + callback_path(provider.name)

    # --- start ---------------------------------------------------------------------------

    async def start(
        self,
        db: AsyncSession,
        provider_name: str,
        browser: str | None,
        redirect_to: str,
        *,
        intent: str = SIGN_IN,
        user_id: uuid.UUID | None = None,
        error_redirect_to: str | None = None,
        persistent: bool = True,
    ) -> tuple[str, str]:
        """The provider URL to send the browser to, and the browser-binding value for its cookie."""
        provider = self.provider(provider_name)
        browser = states.browser_binding(browser)
        state, verifier = new_token(), generate_token(64)
        nonce = new_token() if provider.is_oidc else None
        try:
            url = await self.clients[provider.name].authorization_url(
                self.callback_url(provider), state, verifier, nonce
            )
        except ProviderError as error:
            raise OAuthRefused(error.message, reason=error.reason, intent=intent) from error
        await states.save(
            db,
            self.accounts.box,
            self.oauth.state_ttl,
            state,
            browser,
            verifier,
            provider=provider.name,
            intent=intent,
            user_id=user_id,
            nonce=nonce,
            redirect_to=redirect_to,
            error_redirect_to=error_redirect_to,
            persistent=persistent,
        )
        return url, browser

    # --- callback ------------------------------------------------------------------------

    async def _refuse(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        provider: str,
        reason: str,
        message: str,
        row: OAuthState | None,
        kind: type[OAuthRefused] = OAuthRefused,
    ) -> OAuthRefused:
        """Record the refusal (audit log) and build the error to raise."""
        await self.auth.record(
            db,
            SIGN_IN_REFUSED,
            meta,
            actor=row.user_id if row else None,
            target_type="oauth",
            target_id=None,
            provider=provider,
            reason=reason,
        )
        await db.commit()
        error = kind(message, reason=reason, intent=row.intent if row else SIGN_IN)
        error.error_redirect = row.error_redirect_to if row else None
        return error

    async def finish(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        provider_name: str,
        params: dict[str, str],
        browser: str | None,
        principal: Principal | None,
    ) -> Finished:
        """Check everything the provider sent back, then sign in (or link). OAuthRefused otherwise."""
        provider = self.provider(provider_name)
        row = await states.take(db, params.get("state", ""))
        if row is None:
            reason = "state-missing" if not params.get("state") else "state-unknown"
            raise await self._refuse(
                db,
                meta,
                provider.name,
                reason,
                "This sign-in has expired or was already used. Start again from the sign-in page.",
                None,
            )
        if row.provider != provider.name:
            raise await self._refuse(
                db, meta, provider.name, "state-provider", "This answer is for another provider. Start again.", row
            )
        if row.expires_at <= utcnow():
            raise await self._refuse(
                db, meta, provider.name, "state-expired", "This sign-in has expired. Start again.", row
            )
        if not states.same_browser(browser, row):
            raise await self._refuse(
                db,
                meta,
                provider.name,
                "state-other-browser",
                "This sign-in was started in another browser (or its cookie is gone). Start again here.",
                row,
            )
        if params.get("error"):
            # The code is shown, so only a plain OAuth error code (access_denied ...), never free text.
            code = params["error"] if re.fullmatch(r"[a-z_]{1,40}", params["error"]) else "error"
            message = f"{provider.label} did not sign you in ({code}). You can try again."
            raise await self._refuse(db, meta, provider.name, "provider-error", message, row)
        client = self.clients[provider.name]
        try:
            metadata = await client.metadata()
            iss = params.get("iss")
            # RFC 9207: the authorization response names its issuer; a different one is a mix-up attack.
            announced = iss is not None or metadata.iss_parameter_supported
            if announced and not provider.tenant_issuer and iss != metadata.issuer:
                raise ProviderError(f"The answer did not come from {provider.label} (iss).", "iss-mismatch")
            if not params.get("code"):
                raise ProviderError(f"{provider.label} did not send an authorization code.", "code-missing")
            verifier = states.verifier(self.accounts.box, row)
            token = await client.exchange(self.callback_url(provider), params["code"], verifier)
            profile = await read_profile(client, token, row.nonce)
            if provider.name == "apple":
                profile = with_apple_name(profile, params.get("user"))
        except ProviderError as error:
            raise await self._refuse(db, meta, provider.name, error.reason, error.message, row) from error
        if row.intent == LINK:
            await self._link(db, meta, provider, profile, token, row, principal)
            return Finished(LINK, provider, row.redirect_to)
        try:
            user = await self._user_for(db, meta, provider, profile, token, row)
        except IntegrityError:  # the same identity or address signed up a moment ago, in another tab
            await db.rollback()
            raise await self._refuse(
                db, meta, provider.name, "conflict", "This account was just created elsewhere. Sign in again.", row
            ) from None
        result = await self.auth.open_session(
            db, meta, user, f"oauth:{provider.name}", row.persistent, principal.session_id if principal else None
        )
        return Finished(SIGN_IN, provider, row.redirect_to, result)

    async def _link(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        provider: Provider,
        profile: Profile,
        token: dict[str, Any],
        row: OAuthState,
        principal: Principal | None,
    ) -> None:
        if principal is None or principal.user_id != row.user_id:
            raise await self._refuse(
                db,
                meta,
                provider.name,
                "link-session",
                "Sign in again, then link the account from your account page.",
                row,
            )
        link = await self.accounts.find(db, profile.issuer, profile.subject)
        if link is not None and link.user_id != principal.user_id:
            raise await self._refuse(
                db,
                meta,
                provider.name,
                "link-taken",
                f"This {provider.label} account is already linked to another user.",
                row,
            )
        if link is None:
            link = await self.accounts.add(db, principal.user_id, provider.name, profile)
            await self.auth.record(
                db,
                ACCOUNT_LINKED,
                meta,
                actor=principal.user_id,
                target_type="account",
                target_id=link.account_id,
                provider=provider.name,
                how="user",
            )
        self.accounts.store_tokens(link, profile, token)
        db.add(link)
        await db.commit()

    async def _user_for(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        provider: Provider,
        profile: Profile,
        token: dict[str, Any],
        row: OAuthState,
    ) -> User:
        """The user this identity signs in as: linked, auto-linked (both emails verified) or new."""
        link = await self.accounts.find(db, profile.issuer, profile.subject)
        if link is not None:
            user = await db.get(User, link.user_id)
            assert user is not None  # the link cascades away with its user
        else:
            user, created = await self._match_or_create(db, meta, provider, profile, row)
            link = await self.accounts.add(db, user.id, provider.name, profile)
            how = "new-user" if created else "auto"
            await self.auth.record(
                db,
                ACCOUNT_LINKED,
                meta,
                actor=user.id,
                target_type="account",
                target_id=link.account_id,
                provider=provider.name,
                how=how,
            )
        self.accounts.store_tokens(link, profile, token)
        db.add(link)
        await db.commit()  # the link stands even if a second factor is asked for next
        return user

    async def _match_or_create(
        self, db: AsyncSession, meta: RequestMeta, provider: Provider, profile: Profile, row: OAuthState
    ) -> tuple[User, bool]:
        label = provider.label
        try:
            email = self.auth.normalize_email(profile.email or "")
        except InvalidInput:
            raise await self._refuse(
                db,
                meta,
                provider.name,
                "no-email",
                f"{label} did not share an email address, which this app needs to create your account.",
                row,
            ) from None
        existing = await self.auth.user_by_email(db, email)
        if existing is not None:
            if self.oauth.auto_link and profile.email_verified and existing.email_verified:
                return existing, False
            raise await self._refuse(
                db,
                meta,
                provider.name,
                "not-linked",
                f"An account with this email address already exists. Sign in to it the way you usually do, "
                f"then link {label} from your account page.",
                row,
                AccountNotLinked,
            )
        if not profile.email_verified:
            raise await self._refuse(
                db,
                meta,
                provider.name,
                "email-unverified",
                f"{label} has not confirmed your email address. Confirm it there, or sign up with a password.",
                row,
            )
        try:
            name = self.auth.clean_name(profile.name or "")
        except InvalidInput:
            name = email.split("@")[0][:100]
        user = await self.auth.create_user(
            db, meta, name=name, email=email, method=f"oauth:{provider.name}", email_verified=True, image=profile.image
        )
        return user, True

    # --- account page --------------------------------------------------------------------

    async def unlink(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, provider_id: str, account_id: str | None = None
    ) -> None:
        """Remove a linked provider (fresh session); never the last way to sign in."""
        self.auth.require_fresh(principal)
        rows = await self.accounts.of_user(db, principal.user_id)
        match = [
            account
            for account, link in rows
            if link is not None and account.provider_id == provider_id and account_id in (None, account.account_id)
        ]
        if not match:
            raise AccountNotFound()
        if await self.auth.sign_in_methods(db, principal.user_id) <= 1:
            raise CannotUnlinkLast()
        account = match[0]
        await self.accounts.remove(db, account)
        await self.auth.record(
            db,
            ACCOUNT_UNLINKED,
            meta,
            actor=principal.user_id,
            target_type="account",
            target_id=account.id,
            provider=provider_id,
        )
        await db.commit()

    async def access_token(self, db: AsyncSession, user_id: uuid.UUID, provider_name: str) -> str | None:
        """A valid access token for calling the provider's API as the user (renewed when it is about
        to expire and a refresh token is stored); None when the user has not linked the provider."""
        link = await self.accounts.of_provider(db, user_id, provider_name)
        if link is None:
            return None
        due = link.expires_at is not None and link.expires_at - timedelta(seconds=60) <= utcnow()
        refresh_token = self.accounts.refresh_token(link) if due else None
        if refresh_token and provider_name in self.clients:
            try:
                token = await self.clients[provider_name].refresh(refresh_token)
            except ProviderError:
                return None  # the provider revoked the access: the user links it again
            self.accounts.store_tokens(link, None, token)
            db.add(link)
            await db.commit()
        return self.accounts.access_token(link)

    async def linked(self, db: AsyncSession, user_id: uuid.UUID) -> list[tuple[Any, OAuthAccount | None]]:
        """The user's sign-in methods (for the account page and list-accounts)."""
        return await self.accounts.of_user(db, user_id)
