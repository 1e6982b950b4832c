"""Magic-link rules: request a link, use it once to open a session."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, SignInOutcome, User, claim_unverified
from app.core.db import utcnow
from app.core.errors import InvalidToken
from app.core.events import RequestMeta
from app.features.base import provider
from app.features.magic_link.settings import MagicLinkSettings

PURPOSE = "magic-link"
METHOD = "magic-link"
LINK_REQUESTED = "magic_link.requested"


class MagicLinks:
    """Issues and redeems sign-in links through the auth core's token and session functions."""

    def __init__(self, auth: AuthKit, settings: MagicLinkSettings) -> None:
        self.auth = auth
        self.settings = settings

    async def request(self, db: AsyncSession, meta: RequestMeta, email: str, next_path: str | None = None) -> None:
        """Mail a link when the address has an account, a sign-up pointer when not; the answer is the same.

        The same in time as well: either mail is made after the answer (`Mailer.run_later`), the
        link's row and commit included, so that no stopwatch tells which addresses have an account.
        """
        email = self.auth.normalize_email(email)
        await self.auth.spend_mail_budget(email)
        user = await self.auth.user_by_email(db, email)
        if user is None:
            self.auth.run_later(self._mail_sign_up_pointer(email))
        else:
            self.auth.run_later(self._mail_link(meta, user.id, user.name, email, next_path))

    async def _mail_sign_up_pointer(self, email: str) -> None:
        self.auth.send_mail(email, "magic_link_no_account", sign_up_url=self.auth.link("/sign-up"))

    async def _mail_link(
        self, meta: RequestMeta, user_id: uuid.UUID, name: str, email: str, next_path: str | None
    ) -> None:
        async with self.auth.db.sessions() as db:
            token = await self.auth.issue_token(db, PURPOSE, str(user_id), self.settings.ttl)
            await self.auth.record(db, LINK_REQUESTED, meta, actor=None, target_type="user", target_id=user_id)
            await db.commit()
        url = self.auth.link("/magic-link/verify", token=token, next=next_path)
        self.auth.send_mail(email, "magic_link", name=name, minutes=self.settings.ttl // 60, url=url)

    async def sign_in(
        self, db: AsyncSession, meta: RequestMeta, token: str, replaces: uuid.UUID | None = None
    ) -> SignInOutcome:
        """Use the link up and open a session (or hand over to the second factor); the link also
        proves the address."""
        user_id, _ = await self.auth.consume_token(db, PURPOSE, token)
        user = await db.get(User, uuid.UUID(user_id))
        if user is None:
            await db.commit()
            raise InvalidToken()
        # The first proof of the address: what an unproven sign-up set goes. Not for a banned account,
        # which open_session refuses: a refused link changes nothing.
        if not user.email_verified and not user.is_banned(utcnow()):
            await claim_unverified(self.auth, db, meta, user, METHOD)
        return await self.auth.open_session(db, meta, user, METHOD, persistent=True, replaces=replaces)


STATE_KEY = "magic_links"
service_for = provider(STATE_KEY, MagicLinks)
