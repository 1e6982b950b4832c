"""Two-factor rules: enrol an authenticator app, recovery codes, and passing the sign-in challenge.

No HTTP objects here. TOTP comes from pyotp (RFC 6238, 30-second steps, 6 digits); codes are
accepted one step either side of now, and never twice (the last accepted step is kept and
only a later one passes, in one conditional UPDATE, so parallel submissions of one code let
exactly one through). The seed (32 base32 characters, 160 bits) is sealed with SecretBox.
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import ColumnElement, and_, delete, exists, func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, InvalidSecondFactor, Principal, SignInResult
from app.core.crypto import SecretBox, hash_token
from app.core.db import utcnow
from app.core.errors import AppError, InvalidInput
from app.core.events import RequestMeta
from app.features.base import provider
from app.features.two_factor.models import RecoveryCode, TwoFactor
from app.settings import Settings

TOTP = "totp"
RECOVERY_CODE = "recovery_code"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper. 12 characters of 31 ≈ 59 bits each.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
SEED_LENGTH = 32  # base32 characters: 160 bits
_DIGITS = frozenset("0123456789")
ENABLED = "two_factor.enabled"
DISABLED = "two_factor.disabled"
CODES_REGENERATED = "two_factor.recovery_codes_regenerated"
USED = "two_factor.used"
FAILED = "two_factor.failed"
TF = TwoFactor.__table__.c  # type: ignore[attr-defined]
RC = RecoveryCode.__table__.c  # type: ignore[attr-defined]


class TwoFactorNotEnabled(AppError):
    code = "TWO_FACTOR_NOT_ENABLED"
    status_code = 400
    default_message = "Two-step verification is not turned on."


class TwoFactorAlreadyEnabled(AppError):
    code = "TWO_FACTOR_ALREADY_ENABLED"
    status_code = 400
    default_message = "Two-step verification is already on."


@dataclass(frozen=True)
class Enrolment:
    """What the setup page shows: the key in text, the otpauth:// URI and its QR code as SVG."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The key in groups of four, easier to type."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    def qr_svg(self) -> str:
        """The URI as an inline SVG QR code (no external service, nothing inline for the CSP to block)."""
        return str(
            segno.make(self.uri, error="m").svg_inline(
                scale=5, border=4, dark="#111827", light="#ffffff", omitsize=True
            )
        )


@dataclass(frozen=True)
class Status:
    """The security page's view of a user's two-step verification."""

    enabled: bool
    recovery_codes_left: int


def normalize_code(raw: str) -> str:
    """A typed code without spaces or dashes, lower-cased."""
    return "".join(ch for ch in (raw or "").lower() if ch.isalnum())[:64]


def new_recovery_code() -> str:
    """`xxxx-xxxx-xxxx` from CODE_ALPHABET."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def code_hash(user_id: uuid.UUID, code: str) -> str:
    """What is stored for a recovery code: bound to its user."""
    return hash_token(f"{user_id}:{normalize_code(code)}")


async def recovery_codes_left(db: AsyncSession, user_id: uuid.UUID) -> int:
    """Unused recovery codes of the user."""
    query = select(func.count()).select_from(RecoveryCode).where(RC.user_id == user_id, RC.used_at.is_(None))
    return int((await db.exec(query)).one())


async def status(db: AsyncSession, user_id: uuid.UUID) -> Status:
    """Enabled, and how many recovery codes are left."""
    row = await db.get(TwoFactor, user_id)
    return Status(row is not None and row.enabled, await recovery_codes_left(db, user_id))


class TwoFactorService:
    """The feature's rules, over the auth core's service (events, freshness, the second-factor gate)."""

    def __init__(self, auth: AuthKit) -> None:
        self.auth = auth
        secrets_ = auth.settings.secrets
        self.box = SecretBox(secrets_.secret_key, "two-factor", secrets_.secret_key_fallbacks)
        self.issuer = auth.settings.app.name

    # --- reading ---------------------------------------------------------------------------

    async def row(self, db: AsyncSession, user_id: uuid.UUID) -> TwoFactor | None:
        """The user's TOTP row, enabled or still being set up."""
        return await db.get(TwoFactor, user_id)

    async def is_enabled(self, db: AsyncSession, user_id: uuid.UUID) -> bool:
        """Whether the user has confirmed an authenticator app."""
        row = await self.row(db, user_id)
        return row is not None and row.enabled

    async def status(self, db: AsyncSession, user_id: uuid.UUID) -> Status:
        """Enabled, and how many recovery codes are left."""
        return await status(db, user_id)

    def _secret(self, row: TwoFactor) -> str:
        return self.box.unseal(row.secret, str(row.user_id)).decode()

    def enrolment(self, row: TwoFactor, email: str) -> Enrolment:
        """The key and URI of a row (to show the setup page again)."""
        secret = self._secret(row)
        return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=self.issuer))

    # --- enrolment -------------------------------------------------------------------------

    async def check_password_or_fresh(self, db: AsyncSession, principal: Principal, password: str | None) -> None:
        """The JSON API asks for the password (as Better Auth does); a fresh session also does."""
        self.auth.check_sensitive(principal)  # the password does not lift a refusal (an impersonation)
        if password:
            self.auth.check_password_length(password)
            account = await self.auth.credential(db, principal.user_id)
            # A stolen session must not guess the password freely: the check pays with the account's budget.
            if not await self.auth.check_password(account, principal.email, password):
                raise InvalidInput("That password is not correct.", field="password")
            return
        self.auth.require_fresh(principal)

    async def start(self, db: AsyncSession, principal: Principal) -> Enrolment:
        """A new secret for the user (replacing an unconfirmed one); 2FA stays off until a code confirms it."""
        self.auth.require_fresh(principal)
        row = await self.row(db, principal.user_id)
        if row is not None and row.enabled:
            raise TwoFactorAlreadyEnabled()
        secret = pyotp.random_base32(SEED_LENGTH)
        sealed = self.box.seal(secret.encode(), str(principal.user_id))
        if row is None:
            row = TwoFactor(user_id=principal.user_id, secret=sealed)
        row.secret, row.last_step, row.created_at = sealed, None, utcnow()
        db.add(row)
        await db.commit()
        return self.enrolment(row, principal.email)

    async def confirm(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, code: str, with_codes: bool = True
    ) -> list[str]:
        """Switch 2FA on with a code from the app; the new recovery codes (shown once) when `with_codes`."""
        row = await self.row(db, principal.user_id)
        if row is None:
            raise TwoFactorNotEnabled("Start the set-up again: no authenticator key is waiting.")
        if row.enabled:
            raise TwoFactorAlreadyEnabled()
        step = self._matching_step(self._secret(row), code)
        if step is None:
            await self.auth.record(
                db,
                FAILED,
                meta,
                actor=principal.user_id,
                target_type="user",
                target_id=principal.user_id,
                factor=TOTP,
                stage="enrol",
            )
            await db.commit()
            raise InvalidInput("That code is not correct. Check the time on your phone and try again.", field="code")
        row.enabled, row.enabled_at, row.last_step = True, utcnow(), step
        db.add(row)
        codes = await self._replace_codes(db, principal.user_id) if with_codes else []
        await self.auth.record(
            db, ENABLED, meta, actor=principal.user_id, target_type="user", target_id=principal.user_id, factor=TOTP
        )
        await db.commit()
        return codes

    async def enable_with_codes(self, db: AsyncSession, principal: Principal) -> tuple[Enrolment, list[str]]:
        """Better Auth's `enable`: a new secret and recovery codes; on after the first verified code."""
        enrolment = await self.start(db, principal)
        codes = await self._replace_codes(db, principal.user_id)
        await db.commit()
        return enrolment, codes

    async def disable(self, db: AsyncSession, meta: RequestMeta, principal: Principal) -> None:
        """Turn 2FA off (fresh session required): secret, recovery codes and trusted browsers go."""
        self.auth.require_fresh(principal)
        row = await self.row(db, principal.user_id)
        if row is None or not row.enabled:
            raise TwoFactorNotEnabled()
        await db.delete(row)
        await db.exec(delete(RecoveryCode).where(RC.user_id == principal.user_id))
        await self.auth.gate.revoke_trust(db, principal.user_id)
        await self.auth.record(
            db, DISABLED, meta, actor=principal.user_id, target_type="user", target_id=principal.user_id
        )
        await db.commit()

    async def regenerate(self, db: AsyncSession, meta: RequestMeta, principal: Principal) -> list[str]:
        """A new set of recovery codes (fresh session required); the old set stops working."""
        self.auth.require_fresh(principal)
        if not await self.is_enabled(db, principal.user_id):
            raise TwoFactorNotEnabled()
        codes = await self._replace_codes(db, principal.user_id)
        await self.auth.record(
            db, CODES_REGENERATED, meta, actor=principal.user_id, target_type="user", target_id=principal.user_id
        )
        await db.commit()
        return codes

    async def _replace_codes(self, db: AsyncSession, user_id: uuid.UUID) -> list[str]:
        await db.exec(delete(RecoveryCode).where(RC.user_id == user_id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        for code in codes:
            db.add(RecoveryCode(user_id=user_id, code_hash=code_hash(user_id, code)))
        return codes

    # --- the sign-in challenge -------------------------------------------------------------

    @staticmethod
    def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
        """The time step (now, or one either side) whose code this is; None if none."""
        code = "".join(ch for ch in (code or "") if ch in _DIGITS)  # "١٢٣" are digits too, not ours
        if len(code) != 6:
            return None
        totp = pyotp.TOTP(secret)
        current = totp.timecode(time.time() if now is None else now)
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    async def verify_totp(
        self, db: AsyncSession, meta: RequestMeta, pending_token: str, code: str, trust_device: bool = False
    ) -> SignInResult:
        """Pass the challenge with a code from the app: once per time step, 5 wrong codes end it."""
        pending = await self.auth.require_pending(db, pending_token)
        row = await self.row(db, pending.user_id)
        step = self._matching_step(self._secret(row), code) if row is not None and row.enabled else None
        if step is not None:
            # Spend the step: only one request can move last_step past it.
            spent = await db.exec(
                update(TwoFactor)
                .where(TF.user_id == pending.user_id, (TF.last_step.is_(None)) | (TF.last_step < step))
                .values(last_step=step)
            )
            if spent.rowcount == 1:
                await self.auth.record(
                    db, USED, meta, actor=pending.user_id, target_type="user", target_id=pending.user_id, factor=TOTP
                )
                return await self.auth.finish_second_factor(db, meta, pending_token, TOTP, trust_device=trust_device)
        await self.auth.record(
            db,
            FAILED,
            meta,
            actor=None,
            target_type="user",
            target_id=pending.user_id,
            factor=TOTP,
            reused=step is not None,
        )
        return await self.auth.fail_second_factor(db, meta, pending_token, TOTP)

    async def verify_recovery_code(
        self, db: AsyncSession, meta: RequestMeta, pending_token: str, code: str, trust_device: bool = False
    ) -> SignInResult:
        """Pass the challenge with a recovery code: each works once."""
        pending = await self.auth.require_pending(db, pending_token)
        normalized = normalize_code(code)
        if len(normalized) == 12:
            spent = await db.exec(
                update(RecoveryCode)
                .where(
                    RC.user_id == pending.user_id,
                    RC.code_hash == code_hash(pending.user_id, normalized),
                    RC.used_at.is_(None),
                )
                .values(used_at=utcnow())
            )
            if spent.rowcount == 1:
                await self.auth.record(
                    db,
                    USED,
                    meta,
                    actor=pending.user_id,
                    target_type="user",
                    target_id=pending.user_id,
                    factor=RECOVERY_CODE,
                )
                return await self.auth.finish_second_factor(
                    db, meta, pending_token, RECOVERY_CODE, trust_device=trust_device
                )
        await self.auth.record(
            db, FAILED, meta, actor=None, target_type="user", target_id=pending.user_id, factor=RECOVERY_CODE
        )
        try:
            return await self.auth.fail_second_factor(db, meta, pending_token, RECOVERY_CODE)
        except InvalidSecondFactor as error:
            raise InvalidSecondFactor(error.message.replace("code", "recovery code", 1), field="code") from None


class TotpFactor:
    """The authenticator-app factor offered on the challenge."""

    name = TOTP
    label = "Authenticator app"
    template = "two_factor/challenge_totp.html"

    def offered(self, settings: Settings) -> bool:
        """Always, once enrolled."""
        del settings
        return True

    def enrolled_when(self, user_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
        """A confirmed authenticator app."""
        return _totp_on(user_id)


class RecoveryCodeFactor:
    """Recovery codes, offered while TOTP is on and codes are left."""

    name = RECOVERY_CODE
    label = "Recovery code"
    template = "two_factor/challenge_recovery.html"

    def offered(self, settings: Settings) -> bool:
        """Always, once enrolled."""
        del settings
        return True

    def enrolled_when(self, user_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
        """TOTP is on and at least one code is unused."""
        return and_(_totp_on(user_id), exists().where(RC.user_id == user_id, RC.used_at.is_(None)))


def _totp_on(user_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    return exists().where(TF.user_id == user_id, TF.enabled)


STATE_KEY = "two_factor"
service_for = provider(STATE_KEY, TwoFactorService)
