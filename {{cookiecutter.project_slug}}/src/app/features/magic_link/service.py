"""Magic-link rules: request a link, use it once to open a session."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.models import User
from app.auth.service import AuthService, SignInResult
from app.core.errors import InvalidToken
from app.core.events import RequestMeta
from app.features.magic_link.settings import MagicLinkSettings

PURPOSE = "magic-link"
METHOD = "magic-link"
LINK_REQUESTED = "magic_link.requested"


class MagicLinks:
    """Issues and redeems sign-in links through the auth core's token and session functions."""

    def __init__(self, auth: AuthService) -> None:
        self.auth = auth
        self.settings = MagicLinkSettings()

    async def request(self, db: AsyncSession, meta: RequestMeta, email: str, next_path: str | None = None) -> None:
        """Mail a link when the address has an account, a sign-up pointer when not; the answer is the same."""
        email = self.auth.normalize_email(email)
        await self.auth.spend_mail_budget(email)
        user = await self.auth.user_by_email(db, email)
        if user is None:
            self.auth.mailer.send(email, "magic_link_no_account", sign_up_url=self.auth.link("/sign-up"))
            return
        token = await self.auth.issue_token(db, PURPOSE, str(user.id), self.settings.ttl)
        await self.auth.emit(db, LINK_REQUESTED, meta, None, "user", user.id)
        await db.commit()
        minutes = self.settings.ttl // 60
        self.auth.mailer.send(
            email,
            "magic_link",
            name=user.name,
            minutes=minutes,
            url=self.auth.link("/magic-link/verify", token=token, next=next_path),
        )

    async def sign_in(
        self, db: AsyncSession, meta: RequestMeta, token: str, replaces: uuid.UUID | None = None
    ) -> SignInResult:
        """Use the link up and open a session; the link also proves the address."""
        user_id, _ = await self.auth.consume_token(db, PURPOSE, token)
        user = await db.get(User, uuid.UUID(user_id))
        if user is None:
            await db.commit()
            raise InvalidToken()
        if not user.email_verified:  # the first proof of the address: what an unproven sign-up set goes
            await self.auth.claim_unverified(db, meta, user, METHOD)
        return await self.auth.open_session(db, meta, user, METHOD, persistent=True, replaces=replaces)
