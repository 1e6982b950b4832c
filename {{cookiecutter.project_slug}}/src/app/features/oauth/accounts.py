"""Linked provider accounts: storing them (tokens sealed), listing them, unlinking them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import Account
from app.core.crypto import SecretBox
from app.core.db import utcnow
from app.features.oauth.models import OAuthAccount
from app.features.oauth.profiles import Profile

TOKEN_LIFETIME_MAX = 10 * 365 * 24 * 3600  # an access token said to outlive this is stored as "unknown"


class LinkedAccounts:
    """Rows of `account` + `oauth_account` for provider identities."""

    def __init__(self, box: SecretBox) -> None:
        self.box = box

    async def find(self, db: AsyncSession, issuer: str, subject: str) -> OAuthAccount | None:
        """The link for this identity, whatever its email."""
        query = select(OAuthAccount).where(OAuthAccount.issuer == issuer, OAuthAccount.subject == subject)
        return (await db.exec(query)).first()

    async def add(self, db: AsyncSession, user_id: uuid.UUID, provider: str, profile: Profile) -> OAuthAccount:
        """Link the identity to the user (flushed, not committed)."""
        account = Account(user_id=user_id, provider_id=provider, account_id=profile.subject[:255])
        db.add(account)
        await db.flush()
        link = OAuthAccount(
            account_id=account.id,
            user_id=user_id,
            provider=provider,
            issuer=profile.issuer,
            subject=profile.subject,
        )
        db.add(link)
        await db.flush()
        return link

    def store_tokens(self, link: OAuthAccount, profile: Profile | None, token: dict[str, Any]) -> None:
        """Keep the provider's latest tokens, sealed to this row; the browser never sees them."""
        context = str(link.id)

        def seal(value: Any) -> str | None:
            return self.box.seal(value.encode(), context) if isinstance(value, str) and value else None

        link.access_token = seal(token.get("access_token"))
        link.refresh_token = seal(token.get("refresh_token")) or link.refresh_token
        link.id_token = seal(token.get("id_token")) or link.id_token
        scope = token.get("scope")
        link.scope = scope[:1024] if isinstance(scope, str) else None
        expires_in = token.get("expires_in")
        if isinstance(expires_in, int) and 0 <= expires_in <= TOKEN_LIFETIME_MAX:  # else: unknown, not an overflow
            link.expires_at = utcnow() + timedelta(seconds=expires_in)
        else:
            link.expires_at = None
        if profile is not None:
            link.email = profile.email[:254] if profile.email else None
            link.email_verified = profile.email_verified
        link.updated_at = utcnow()

    def access_token(self, link: OAuthAccount) -> str | None:
        """The stored provider access token (see OAuthService.access_token for one that is still valid)."""
        return self.box.unseal(link.access_token, str(link.id)).decode() if link.access_token else None

    def refresh_token(self, link: OAuthAccount) -> str | None:
        """The stored refresh token, if the provider gave one."""
        return self.box.unseal(link.refresh_token, str(link.id)).decode() if link.refresh_token else None

    async def of_provider(self, db: AsyncSession, user_id: uuid.UUID, provider: str) -> OAuthAccount | None:
        """The user's (first) link to a provider."""
        query = select(OAuthAccount).where(OAuthAccount.user_id == user_id, OAuthAccount.provider == provider)
        return (await db.exec(query.order_by(col(OAuthAccount.created_at)))).first()

    async def of_user(self, db: AsyncSession, user_id: uuid.UUID) -> list[tuple[Account, OAuthAccount | None]]:
        """Every sign-in method of the user: the password account and each linked provider."""
        query = (
            select(Account, OAuthAccount)
            .join(OAuthAccount, col(OAuthAccount.account_id) == col(Account.id), isouter=True)
            .where(Account.user_id == user_id)
            .order_by(col(Account.created_at))
        )
        return [(account, link) for account, link in (await db.exec(query)).all()]

    async def count(self, db: AsyncSession, user_id: uuid.UUID) -> int:
        """How many ways the user has to sign in."""
        query = select(func.count()).select_from(Account).where(Account.user_id == user_id)
        return int((await db.exec(query)).one())

    async def remove(self, db: AsyncSession, account: Account) -> None:
        """Forget a provider link (its tokens with it)."""
        await db.exec(delete(OAuthAccount).where(col(OAuthAccount.account_id) == account.id))
        await db.delete(account)
