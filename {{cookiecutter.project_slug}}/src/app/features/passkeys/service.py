"""The passkey rules: registration and sign-in ceremonies (py_webauthn), and managing a user's passkeys.

No HTTP objects here: routes pass the browser's binding token (see challenges.py) and the
authenticator's JSON response. Every ceremony's challenge is single use; the relying party
comes from settings only.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.auth import AuthKit, Principal, SignInOutcome, User
from app.core.db import utcnow
from app.core.errors import AppError, EmailNotVerified, InvalidInput
from app.core.events import EventName, RequestMeta
from app.core.names import one_line_name
from app.features.passkeys.challenges import Challenges, client_challenge
from app.features.passkeys.models import Passkey
from app.features.passkeys.names import default_name
from app.features.passkeys.settings import RelyingParty

NAME_MAX = 100
TIMEOUT_MS = 300_000
REGISTER, SIGN_IN, SECOND_FACTOR, REAUTHENTICATE = "register", "sign-in", "second-factor", "reauthenticate"
# Ceremonies where the passkey stands in for a password as well: user verification is required.
VERIFYING = (SIGN_IN, REAUTHENTICATE)
# What the library said stays in the audit log (passkey.failed); people get a sentence.
_NOT_REGISTERED = "The passkey could not be registered. Try again, or use another device or browser."


class PasskeyRejected(AppError):
    code = "PASSKEY_REJECTED"
    status_code = 401
    default_message = "That passkey could not be used to sign in."


class PasskeyNotFound(AppError):
    """Also the answer for another user's passkey: whether it exists is not revealed."""

    code = "PASSKEY_NOT_FOUND"
    status_code = 404
    default_message = "That passkey was not found."


async def count_passkeys(db: AsyncSession, user_id: uuid.UUID) -> int:
    """The user's passkeys, each a way to sign in (counted by AuthKit.sign_in_methods, see the feature's setup)."""
    result = await db.exec(select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id))
    return int(result.one())


class LastSignInMethod(AppError):
    code = "LAST_SIGN_IN_METHOD"
    status_code = 409
    default_message = (
        "This is your only way to sign in. Add another passkey first, or set a password "
        "(“Forgot password?” on the sign-in page sends you a link)."
    )


class DuplicatePasskey(AppError):
    code = "PASSKEY_ALREADY_REGISTERED"
    status_code = 409
    default_message = "This passkey is already registered."


@dataclass(frozen=True)
class Verified:
    """A passkey that just proved its owner's presence (and verification, when asked for)."""

    user: User
    passkey: Passkey
    user_verified: bool


def _response_part(response: Any, *keys: str) -> str:
    value: Any = response
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


async def user_passkeys(db: AsyncSession, user_id: uuid.UUID) -> list[Passkey]:
    """A user's passkeys, oldest first."""
    query = select(Passkey).where(Passkey.user_id == user_id).order_by(col(Passkey.created_at))
    return list((await db.exec(query)).all())


class Passkeys:
    """One instance per app (see routes.py), on top of the auth core."""

    def __init__(self, auth: AuthKit, party: RelyingParty) -> None:
        self.auth = auth
        self.party = party
        self.challenges = Challenges(auth.cookies, kit=auth)

    # --- managing -------------------------------------------------------------------------

    async def for_user(self, db: AsyncSession, user_id: uuid.UUID) -> list[Passkey]:
        """A user's passkeys, oldest first."""
        return await user_passkeys(db, user_id)

    async def get(self, db: AsyncSession, user_id: uuid.UUID, passkey_id: str) -> Passkey:
        """One of the user's passkeys; PasskeyNotFound for anything else (another user's included)."""
        try:
            key = uuid.UUID(str(passkey_id))
        except ValueError as error:
            raise PasskeyNotFound() from error
        passkey = await db.get(Passkey, key)
        if passkey is None or passkey.user_id != user_id:
            raise PasskeyNotFound()
        return passkey

    @staticmethod
    def clean_name(raw: str | None) -> str:
        """A passkey name: one visible line of 1..100 characters (app.core.names)."""
        name = one_line_name(raw, NAME_MAX)
        if name is None:
            raise InvalidInput(f"Enter a name of at most {NAME_MAX} characters.", field="name")
        return name

    async def rename(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, passkey_id: str, name: str
    ) -> Passkey:
        """Give a passkey a new name."""
        passkey = await self.get(db, principal.user_id, passkey_id)
        passkey.name = self.clean_name(name)
        db.add(passkey)
        await self.auth.record(
            db, "passkey.renamed", meta, actor=principal.user_id, target_type="passkey", target_id=passkey.id
        )
        await db.commit()
        await db.refresh(passkey)
        return passkey

    async def delete(self, db: AsyncSession, meta: RequestMeta, principal: Principal, passkey_id: str) -> None:
        """Remove a passkey (fresh session); never the last way to sign in."""
        self.auth.require_fresh(principal)
        passkey = await self.get(db, principal.user_id, passkey_id)
        if await self.auth.sign_in_methods(db, principal.user_id) <= 1:
            raise LastSignInMethod()
        await db.delete(passkey)
        await self.auth.record(
            db,
            "passkey.removed",
            meta,
            actor=principal.user_id,
            target_type="passkey",
            target_id=passkey.id,
            passkey_name=passkey.name,
        )
        await db.commit()

    # --- registration ---------------------------------------------------------------------

    def creation_options(
        self, challenge: bytes, user_id: uuid.UUID, email: str, name: str, existing: list[Passkey], verify: bool
    ) -> dict[str, Any]:
        """Options for navigator.credentials.create(): a discoverable credential for this user."""
        options = generate_registration_options(
            rp_id=self.party.id,
            rp_name=self.party.name,
            user_id=user_id.bytes,
            user_name=email,
            user_display_name=name,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED
                if verify
                else UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing
            ],
        )
        result: dict[str, Any] = json.loads(options_to_json(options))
        return result

    async def attest(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        user_id: uuid.UUID | None,
        challenge: bytes,
        response: dict[str, Any],
        verify: bool = False,
    ) -> Passkey:
        """Check an attestation (origin, RP id, presence, verification when asked) into an unsaved Passkey."""
        try:
            verified = verify_registration_response(
                credential=response,
                expected_challenge=challenge,
                expected_rp_id=self.party.id,
                expected_origin=list(self.party.origins),
                require_user_presence=True,
                require_user_verification=verify,
            )
        except Exception as error:  # untrusted bytes parsed by py_webauthn, cbor2 and cryptography: any error refuses
            await self._failed(db, meta, user_id, "registration", str(error))
            raise PasskeyRejected(_NOT_REGISTERED) from error
        inner = response.get("response")
        listed = inner.get("transports") if isinstance(inner, dict) else None
        known = AuthenticatorTransport._value2member_map_
        transports = [t for t in listed if isinstance(t, str) and t in known] if isinstance(listed, list) else []
        credential_id = bytes_to_base64url(verified.credential_id)
        taken = await db.exec(select(Passkey.id).where(Passkey.credential_id == credential_id))
        if taken.first() is not None:
            raise DuplicatePasskey()
        return Passkey(
            user_id=user_id or uuid.uuid4(),
            name=default_name(verified.aaguid, meta.user_agent),
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports[:8],
            aaguid=verified.aaguid,
            device_type=verified.credential_device_type.value,
            backed_up=verified.credential_backed_up,
        )

    async def registration_options(self, db: AsyncSession, principal: Principal, binding: str) -> dict[str, Any]:
        """Options for navigator.credentials.create() (fresh session); the user's passkeys are excluded."""
        self.auth.require_fresh(principal)
        existing = await self.for_user(db, principal.user_id)
        challenge = await self.challenges.issue(db, binding, REGISTER, str(principal.user_id))
        await db.commit()
        return self.creation_options(challenge, principal.user_id, principal.email, principal.name, existing, False)

    async def register(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        principal: Principal,
        binding: str | None,
        response: dict[str, Any],
        name: str | None = None,
    ) -> Passkey:
        """Verify the authenticator's attestation and store the new passkey (fresh session)."""
        self.auth.require_fresh(principal)
        chosen = self.clean_name(name) if name and name.strip() else None
        challenge = client_challenge(_response_part(response, "response", "clientDataJSON"))
        owner = await self.challenges.consume(db, binding, REGISTER, challenge)
        if owner != str(principal.user_id):
            raise PasskeyRejected("This passkey request was made for another account.")
        passkey = await self.attest(db, meta, principal.user_id, challenge, response)
        passkey.name = chosen or passkey.name
        db.add(passkey)
        await self.auth.record(
            db,
            "passkey.registered",
            meta,
            actor=principal.user_id,
            target_type="passkey",
            target_id=passkey.id,
            aaguid=passkey.aaguid,
        )
        return await self.save(db, passkey)

    async def save(self, db: AsyncSession, passkey: Passkey) -> Passkey:
        """Commit a new passkey; DuplicatePasskey when the same credential was registered in parallel."""
        try:
            await db.commit()
        except IntegrityError as error:
            await db.rollback()
            raise DuplicatePasskey() from error
        await db.refresh(passkey)
        return passkey

    # --- authentication -------------------------------------------------------------------

    async def authentication_options(
        self, db: AsyncSession, binding: str, purpose: str = SIGN_IN, user_id: uuid.UUID | None = None
    ) -> dict[str, Any]:
        """Options for navigator.credentials.get(): any passkey of this site, or only `user_id`'s."""
        allowed = await self.for_user(db, user_id) if user_id else []
        if user_id and not allowed:
            raise PasskeyNotFound("You have no passkey on this account yet.")
        challenge = await self.challenges.issue(db, binding, purpose, str(user_id) if user_id else "")
        await db.commit()
        options = generate_authentication_options(
            rp_id=self.party.id,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            allow_credentials=[
                PublicKeyCredentialDescriptor(
                    id=base64url_to_bytes(p.credential_id),
                    transports=[AuthenticatorTransport(t) for t in p.transports],
                )
                for p in allowed
            ],
            user_verification=UserVerificationRequirement.REQUIRED
            if purpose in VERIFYING
            else UserVerificationRequirement.PREFERRED,
        )
        result: dict[str, Any] = json.loads(options_to_json(options))
        return result

    async def verify(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        binding: str | None,
        response: dict[str, Any],
        purpose: str = SIGN_IN,
        expected_user: uuid.UUID | None = None,
    ) -> Verified:
        """Check an assertion against its challenge, its passkey and the sign count; record the use."""
        challenge = client_challenge(_response_part(response, "response", "clientDataJSON"))
        bound_user = await self.challenges.consume(db, binding, purpose, challenge)
        credential_id = _response_part(response, "id")
        passkey = (await db.exec(select(Passkey).where(Passkey.credential_id == credential_id))).first()
        if passkey is None:
            raise PasskeyRejected("This passkey is not registered here.")
        owner = expected_user or (uuid.UUID(bound_user) if bound_user else None)
        handle = _response_part(response, "response", "userHandle")
        try:
            handle_matches = not handle or base64url_to_bytes(handle) == passkey.user_id.bytes
        except ValueError:
            handle_matches = False
        if (owner is not None and passkey.user_id != owner) or not handle_matches:
            await self._failed(db, meta, passkey.user_id, purpose, "passkey of another account")
            raise PasskeyRejected()
        try:
            verified = verify_authentication_response(
                credential=response,
                expected_challenge=challenge,
                expected_rp_id=self.party.id,
                expected_origin=list(self.party.origins),
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=purpose in VERIFYING,
            )
        except Exception as error:  # untrusted bytes parsed by py_webauthn, cbor2 and cryptography: any error refuses
            await self._failed(db, meta, passkey.user_id, purpose, str(error))
            raise PasskeyRejected() from error
        # Compare-and-set, so that two uses of one assertion cannot both pass the sign-count check.
        P = Passkey.__table__.c  # type: ignore[attr-defined]  # noqa: N806
        counted = true() if verified.new_sign_count == 0 else P.sign_count < verified.new_sign_count
        moved = await db.exec(
            update(Passkey)
            .where(P.id == passkey.id, counted)
            .values(sign_count=verified.new_sign_count, last_used_at=utcnow(), backed_up=verified.credential_backed_up)
        )
        user = await db.get(User, passkey.user_id)
        if moved.rowcount != 1 or user is None:
            await db.rollback()
            await self._failed(db, meta, passkey.user_id, purpose, "sign count did not increase")
            raise PasskeyRejected()
        await self.auth.record(
            db, "passkey.used", meta, actor=user.id, target_type="passkey", target_id=passkey.id, purpose=purpose
        )
        return Verified(user, passkey, verified.user_verified)

    async def sign_in(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        binding: str | None,
        response: dict[str, Any],
        replaces: uuid.UUID | None,
    ) -> SignInOutcome:
        """Passwordless sign-in: a verified passkey with user verification is two factors in one;
        without it, the user's second factor is asked for (a `Challenge`)."""
        verified = await self.verify(db, meta, binding, response, SIGN_IN)
        if not verified.user.email_verified and not self.auth.settings.allow_unverified_sign_in:
            raise EmailNotVerified()  # as for a password: the address is proved before the first session
        return await self.auth.open_session(
            db, meta, verified.user, "passkey", True, replaces, multi_factor=verified.user_verified
        )

    async def reauthenticate(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, binding: str | None, response: dict[str, Any]
    ) -> None:
        """Make the session fresh with one of its user's passkeys (user verification required)."""
        await self.verify(db, meta, binding, response, REAUTHENTICATE, principal.user_id)
        await self.auth.sessions.mark_fresh(db, principal.session_id)
        await self.auth.record(
            db,
            EventName.SESSION_REAUTHENTICATED,
            meta,
            actor=principal.user_id,
            target_type="session",
            target_id=principal.session_id,
            method="passkey",
        )
        await db.commit()

    async def _failed(
        self, db: AsyncSession, meta: RequestMeta, user_id: uuid.UUID | None, purpose: str, reason: str
    ) -> None:
        await self.auth.record(
            db,
            "passkey.failed",
            meta,
            actor=None,
            target_type="user",
            target_id=user_id,
            purpose=purpose,
            reason=reason[:200],
        )
        await db.commit()
