"""Passkey-first sign-up (PASSKEYS_ALLOW_SIGN_UP): an account with a passkey and no password.

The address is proved first, as for every account: a link is emailed (the same answer whether or
not the address is taken, so nobody learns who has an account), and the page behind the link
creates the passkey and the account together. User verification is required, since the passkey
is the account's only way in.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import SignInResult
from app.core.crypto import hash_token
from app.core.errors import AppError, InvalidToken
from app.core.events import RequestMeta
from app.features.passkeys.challenges import client_challenge
from app.features.passkeys.service import PasskeyRejected, Passkeys, _response_part
from app.features.passkeys.settings import PasskeySettings
from app.settings import Settings

TOKEN_PURPOSE = "passkey-sign-up"  # noqa: S105 - a name, not a secret
CEREMONY = "sign-up"


class SignUpDisabled(AppError):
    code = "NOT_FOUND"
    status_code = 404
    default_message = "Signing up with a passkey is not available here."


def sign_up_allowed(settings: Settings) -> bool:
    """Whether PASSKEYS_ALLOW_SIGN_UP is on."""
    return settings.feature(PasskeySettings).allow_sign_up


class PasskeySignUps:
    """The three steps: ask for a link, get creation options, create the account and its passkey."""

    def __init__(self, passkeys: Passkeys) -> None:
        self.passkeys = passkeys
        self.auth = passkeys.auth

    def _check_allowed(self) -> None:
        if not self.passkeys.party.allow_sign_up:
            raise SignUpDisabled()

    async def request(self, db: AsyncSession, meta: RequestMeta, name: str, email: str) -> str:
        """Email the link that finishes the sign-up (or, for a taken address, a note to its owner); the address."""
        self._check_allowed()
        name = self.auth.clean_name(name)
        email = self.auth.normalize_email(email)
        await self.auth.spend_mail_budget(email)
        existing = await self.auth.user_by_email(db, email)
        if existing is not None:
            self.auth.send_mail(
                email,
                "already_registered",
                name=existing.name,
                sign_in_url=self.auth.link("/sign-in"),
                reset_url=self.auth.link("/forgot-password"),
            )
            return email
        ttl = self.auth.settings.auth.verification_ttl
        token = await self.auth.issue_token(db, TOKEN_PURPOSE, email, ttl, payload=name)
        await db.commit()
        self.auth.send_mail(
            email,
            "passkey_sign_up",
            name=name,
            url=self.auth.link("/sign-up/passkey/finish", token=token),
            hours=max(1, ttl // 3600),
        )
        return email

    async def pending(self, db: AsyncSession, token: str) -> tuple[str, str] | None:
        """The address and name behind an unused, unexpired link (without using it up)."""
        return await self.auth.peek_token(db, TOKEN_PURPOSE, token)

    async def options(self, db: AsyncSession, binding: str, token: str) -> dict[str, Any]:
        """Creation options for the new account (its id is chosen now and bound to the challenge)."""
        self._check_allowed()
        found = await self.pending(db, token)
        if found is None:
            raise InvalidToken()
        email, name = found
        user_id = uuid.uuid4()
        payload = json.dumps({"user": str(user_id), "token": hash_token(token)})
        challenge = await self.passkeys.challenges.issue(db, binding, CEREMONY, payload)
        await db.commit()
        return self.passkeys.creation_options(challenge, user_id, email, name, [], verify=True)

    async def finish(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        binding: str | None,
        token: str,
        response: dict[str, Any],
        replaces: uuid.UUID | None = None,
    ) -> SignInResult:
        """Create the account with its passkey and sign in; the link is used up only on success."""
        self._check_allowed()
        challenge = client_challenge(_response_part(response, "response", "clientDataJSON"))
        bound = json.loads(await self.passkeys.challenges.consume(db, binding, CEREMONY, challenge) or "{}")
        if bound.get("token") != hash_token(token or ""):
            raise PasskeyRejected("This passkey request was made for another sign-up.")
        user_id = uuid.UUID(bound["user"])
        passkey = await self.passkeys.attest(db, meta, None, challenge, response, verify=True)
        email, name = await self.auth.consume_token(db, TOKEN_PURPOSE, token)
        if await self.auth.user_by_email(db, email) is not None:
            await db.commit()
            raise InvalidToken("This address already has an account: sign in instead.")
        user = await self.auth.create_user(
            db, meta, name=name, email=email, method="passkey", email_verified=True, user_id=user_id
        )
        passkey.user_id = user.id
        db.add(passkey)
        await self.auth.record(
            db,
            "passkey.registered",
            meta,
            actor=user.id,
            target_type="passkey",
            target_id=passkey.id,
            aaguid=passkey.aaguid,
        )
        result = await self.auth.open_session(db, meta, user, "passkey", True, replaces, multi_factor=True)
        if not isinstance(result, SignInResult):  # a new account has no second factor yet
            raise RuntimeError("a passkey sign-up was challenged")
        return result
