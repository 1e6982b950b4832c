"""The auth flows: sign-up, sign-in, verification, reset, account changes. No HTTP objects here.

JSON routes and HTML views both call these functions with an open database session and the
request's `RequestMeta`; each public method commits its own transaction, in which events (and
so the audit log) and the hooks of `app/hooks.py` run.
"""

from __future__ import annotations

import dataclasses
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from litestar.stores.base import Store
from sqlalchemy import Select, bindparam, delete, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import hooks
from app.auth.models import CREDENTIAL_PROVIDER, Account, PendingSignIn, Session, User, Verification
from app.auth.passwords import PasswordPolicyError, Passwords
from app.auth.second_factor import (
    InvalidSecondFactor,
    SecondFactor,
    SecondFactorExpired,
    SecondFactorGate,
    SecondFactorRequired,
)
from app.auth.sessions import Principal, SessionManager
from app.core.crypto import hash_token, new_token
from app.core.db import utcnow
from app.core.errors import (
    AccountBanned,
    EmailNotVerified,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    SessionNotFresh,
    TooManyAttempts,
)
from app.core.events import Event, EventBus, EventName, RequestMeta
from app.core.mail import Mailer
from app.core.names import one_line_name
from app.core.ratelimit import AttemptBudget
from app.settings import Settings

VERIFY_EMAIL = "email-verification"
RESET_PASSWORD = "password-reset"  # noqa: S105 - a name, not a secret
CHANGE_EMAIL = "change-email"
NAME_MAX = 100
_LOCKED_OUT = "Too many failed sign-ins for this account. Try again later or reset your password."


_USER_COLUMNS = tuple(column.key for column in User.__table__.columns)  # type: ignore[attr-defined]
_USER_ID = User.__table__.c.id  # type: ignore[attr-defined]
# sign_in's single read: the user by address, with their credential account if they have one.
_SIGN_IN_LOOKUP = (
    core_select(
        *User.__table__.columns,  # type: ignore[attr-defined]
        col(Account.id).label("credential_id"),
        col(Account.password_hash).label("credential_password_hash"),
    )
    .outerjoin(
        Account,
        (col(Account.user_id) == col(User.id)) & (col(Account.provider_id) == CREDENTIAL_PROVIDER),
    )
    .where(col(User.email) == bindparam("email"))
)


@dataclass(frozen=True)
class SignInResult:
    """A new session and the secret token that goes into the cookie."""

    user: User
    session: Session
    token: str
    # The trusted-device cookie's value, when the user ticked "Trust this device" on the challenge.
    trust_token: str | None = None


class AuthService:
    """The auth core's rules; one instance per app."""

    def __init__(
        self,
        settings: Settings,
        sessions: SessionManager,
        passwords: Passwords,
        bus: EventBus,
        mailer: Mailer,
        store: Store,
        second_factors: Sequence[SecondFactor] = (),
        method_counters: Sequence[Callable[[AsyncSession, uuid.UUID], Awaitable[int]]] = (),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.passwords = passwords
        self.bus = bus
        self.mailer = mailer
        limits = settings.rate_limit
        self.failed_sign_ins = AttemptBudget(
            store, "failed-sign-in", limits.failed_sign_in_budget, limits.failed_sign_in_window
        )
        self.mail_budget = AttemptBudget(store, "mail", limits.mail_per_address, 60)
        self.gate = SecondFactorGate(settings, list(second_factors))
        self._sign_in_lookups: dict[tuple[SecondFactor, ...], Select[Any]] = {}
        self.method_counters = list(method_counters)

    # --- input ---------------------------------------------------------------------------

    def normalize_email(self, raw: str) -> str:
        """Lower-cased, syntax-checked address (no DNS lookup); InvalidInput otherwise.

        The domain is normalised by email-validator (IDNA: a full-width letter in it becomes its
        ASCII twin). A local part that Unicode's compatibility normalisation (NFKC) would change,
        such as `paul` spelt with a full-width p (U+FF50), is refused rather than folded: it would
        show beside `paul` in member lists looking the same, and folding it could send mail to
        someone else's mailbox.
        """
        raw = (raw or "").strip()
        if not raw or len(raw) > 254:
            raise InvalidInput("Enter a valid email address.", field="email")
        try:
            address = validate_email(raw, check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            raise InvalidInput("Enter a valid email address.", field="email") from error
        if unicodedata.normalize("NFKC", address) != address:
            raise InvalidInput(
                "Type the address with ordinary characters: it contains look-alike ones, such as full-width letters.",
                field="email",
            )
        return address

    def check_password_length(self, password: str, field: str = "password") -> None:
        """Refuse over-long (and empty) input before any hashing is spent on it."""
        if not password:
            raise InvalidInput("Enter your password.", field=field)
        if len(password) > self.settings.auth.password_max_length:
            raise InvalidInput(
                f"Passwords are at most {self.settings.auth.password_max_length} characters.", field=field
            )

    def check_new_password(self, password: str, email: str, field: str = "password") -> None:
        """The password policy, as a field error."""
        try:
            self.passwords.check_policy(password, email)
        except PasswordPolicyError as error:
            raise InvalidInput(str(error), field=field) from error

    def sign_up_errors(self, name: str, email: str, password: str) -> dict[str, str]:
        """Every field error of a sign-up at once, by field (a form shows them together); {} if none."""
        errors: dict[str, str] = {}
        checks: list[tuple[str, Callable[[], object]]] = [
            ("name", lambda: self.clean_name(name)),
            ("email", lambda: self.normalize_email(email)),
            ("password", lambda: self.check_password_length(password)),
            ("password", lambda: self.check_new_password(password, email)),
        ]
        for field, check in checks:
            if field in errors:
                continue
            try:
                check()
            except InvalidInput as error:
                errors[error.field or field] = error.message
        return errors

    @staticmethod
    def clean_name(raw: str) -> str:
        """A display name: one visible line of 1..100 characters (app.core.names)."""
        name = one_line_name(raw, NAME_MAX)
        if name is None:
            raise InvalidInput(f"Enter your name (at most {NAME_MAX} characters).", field="name")
        return name

    # --- helpers -------------------------------------------------------------------------

    async def user_by_email(self, db: AsyncSession, email: str) -> User | None:
        """The user with this (normalised) address."""
        return (await db.exec(select(User).where(User.email == email))).first()

    async def credential(self, db: AsyncSession, user_id: uuid.UUID) -> Account | None:
        """The password account of a user, if they have one."""
        query = select(Account).where(Account.user_id == user_id, Account.provider_id == CREDENTIAL_PROVIDER)
        return (await db.exec(query)).first()

    async def emit(
        self,
        db: AsyncSession,
        name: str,
        meta: RequestMeta,
        actor: uuid.UUID | None,
        target_type: str,
        target_id: object = None,
        **data: object,
    ) -> None:
        """Emit an event in the current transaction (audit log, webhooks ...)."""
        target = str(target_id) if target_id is not None else None
        await self.bus.emit(db, Event(name, actor, target_type, target, meta, dict(data)))

    async def issue_token(self, db: AsyncSession, purpose: str, identifier: str, ttl: int, payload: str = "") -> str:
        """Store the hash of a new single-use token; return the token for the link."""
        token = new_token()
        db.add(
            Verification(
                purpose=purpose,
                identifier=identifier,
                token_hash=hash_token(token),
                payload=payload,
                expires_at=utcnow() + timedelta(seconds=ttl),
            )
        )
        return token

    async def consume_token(self, db: AsyncSession, purpose: str, token: str) -> tuple[str, str]:
        """Atomically use up a token (DELETE ... RETURNING); its identifier and payload, or InvalidToken."""
        if not token or len(token) > 128:
            raise InvalidToken()
        V = Verification.__table__.c  # type: ignore[attr-defined]  # noqa: N806
        query = (
            delete(Verification)
            .where(V.token_hash == hash_token(token), V.purpose == purpose)
            .returning(V.identifier, V.payload, V.expires_at)
        )
        row = (await db.exec(query)).first()
        if row is None or row.expires_at <= utcnow():
            await db.commit()
            raise InvalidToken()
        return str(row.identifier), str(row.payload)

    async def drop_links(self, db: AsyncSession, user_id: uuid.UUID) -> None:
        """Forget every emailed link issued to the account (reset, magic link ...), used or not.

        After a password reset or change, or a change of address, a link still lying in a mailbox
        (maybe the old address's) must not reset the password or sign in again.
        """
        await db.exec(delete(Verification).where(col(Verification.identifier) == str(user_id)))

    def link(self, path: str, **params: str | None) -> str:
        """An absolute link to this app for an email."""
        query = urlencode({k: v for k, v in params.items() if v})
        return f"{self.settings.app.base_url.rstrip('/')}{path}{'?' + query if query else ''}"

    async def spend_mail_budget(self, email: str) -> None:
        """At most RATE_LIMIT_MAIL_PER_ADDRESS mails a minute to one address, whether it exists or not."""
        wait = await self.mail_budget.spend(email)
        if wait:
            raise TooManyAttempts(wait, "Too many emails sent to this address. Wait a minute.")

    async def spend_attempt(self, email: str) -> None:
        """Spend one unit of the account's failed sign-in budget before checking one of its credentials.

        Spent before the check, so that attempts made at once cannot all pass; a right password
        gives it back (`take_back`), a completed sign-in clears the budget. TooManyAttempts when
        the budget (RATE_LIMIT_FAILED_SIGN_IN_BUDGET per window) is used up.
        """
        wait = await self.failed_sign_ins.spend(email)
        if wait:
            raise TooManyAttempts(wait, _LOCKED_OUT)

    async def check_password(self, account: Account | None, email: str, password: str) -> bool:
        """A password check that pays with the account's budget: a wrong password keeps its unit spent."""
        await self.spend_attempt(email)
        if not await self.passwords.verify(account.password_hash if account else None, password):
            return False
        await self.failed_sign_ins.take_back(email)
        return True

    def require_fresh(self, principal: Principal) -> None:
        """Sensitive actions need a recent sign-in or re-authentication."""
        if not principal.is_fresh(self.settings.auth.fresh_age):
            raise SessionNotFresh()

    async def sign_in_methods(self, db: AsyncSession, user_id: uuid.UUID) -> int:
        """How many ways the user has to sign in: a password, each linked provider, and what features
        keep elsewhere (passkeys). Removing one is refused while it is the last."""
        usable = (col(Account.password_hash).is_not(None)) | (col(Account.provider_id) != CREDENTIAL_PROVIDER)
        query = select(func.count()).select_from(Account).where(col(Account.user_id) == user_id, usable)
        accounts = (await db.exec(query)).one()
        return int(accounts) + sum([await count(db, user_id) for count in self.method_counters])

    async def emit_revoked(
        self, db: AsyncSession, meta: RequestMeta, actor: uuid.UUID | None, session_ids: list[uuid.UUID], reason: str
    ) -> None:
        """One `session.revoked` event per session that went, saying why."""
        for session_id in session_ids:
            await self.emit(db, EventName.SESSION_REVOKED, meta, actor, "session", session_id, reason=reason)

    # --- flows ---------------------------------------------------------------------------

    async def sign_up(
        self, db: AsyncSession, meta: RequestMeta, name: str, email: str, password: str, callback: str | None = None
    ) -> User:
        """Create a user, or (taken email) tell its owner; both paths look and cost the same."""
        name = self.clean_name(name)
        email = self.normalize_email(email)
        self.check_password_length(password)
        self.check_new_password(password, email)
        await self.spend_mail_budget(email)
        password_hash = await self.passwords.hash(password)
        existing = await self.user_by_email(db, email)
        if existing is not None:
            return self._already_registered(existing, name, email)
        ctx = hooks.HookContext(db, meta)
        await hooks.before_user_create(ctx, name, email)
        user = User(name=name, email=email)
        db.add(user)
        try:
            await db.flush()  # the account row references the user
        except IntegrityError:  # the address signed up in another request since the lookup above
            await db.rollback()
            return self._already_registered(await self.user_by_email(db, email), name, email)
        db.add(
            Account(
                user_id=user.id, provider_id=CREDENTIAL_PROVIDER, account_id=str(user.id), password_hash=password_hash
            )
        )
        await self.emit(db, EventName.USER_CREATED, meta, user.id, "user", user.id, method="password")
        await hooks.after_user_create(ctx, user)
        token = await self.issue_token(db, VERIFY_EMAIL, email, self.settings.auth.verification_ttl)
        await db.commit()
        self.mailer.send(email, "verify_email", name=name, url=self.link("/verify-email", token=token, next=callback))
        return user

    def _already_registered(self, existing: User | None, name: str, email: str) -> User:
        """Sign-up's answer for an address that has an account: its owner is told by mail, and the
        caller gets what a new sign-up gets (a user that is never stored), so no one learns whether
        the address was taken."""
        if existing is not None:
            self.mailer.send(
                email,
                "already_registered",
                name=existing.name,
                sign_in_url=self.link("/sign-in"),
                reset_url=self.link("/forgot-password"),
            )
        now = utcnow()
        return User(id=uuid.uuid4(), name=name, email=email, created_at=now, updated_at=now)

    async def sign_in(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        email: str,
        password: str,
        remember: bool = True,
        replaces: uuid.UUID | None = None,
    ) -> SignInResult:
        """Check email and password (one hash either way) and open a new session."""
        email = self.normalize_email(email)
        self.check_password_length(password)
        await self.spend_attempt(email)
        # One read for the user, their password and their second factors (the direct reader, no ORM round trips).
        factors, lookup = self._sign_in_lookup()
        found = await self.sessions.reader.first(lookup, {"email": email})
        stored = found["credential_password_hash"] if found else None
        if not await self.passwords.verify(stored, password) or found is None or found["credential_id"] is None:
            if found is not None:
                await self.emit(db, EventName.SIGN_IN_FAILED, meta, None, "user", found["id"], reason="password")
                await db.commit()
            raise InvalidCredentials()
        await self.failed_sign_ins.take_back(email)  # a right password is no failed sign-in
        # The row becomes a persistent User of this db session without a second SELECT (hooks may change it).
        user = User(**{name: found[name] for name in _USER_COLUMNS})
        make_transient_to_detached(user)
        db.add(user)
        if not user.email_verified and not self.settings.allow_unverified_sign_in:
            await self.send_verification(db, meta, email)
            raise EmailNotVerified()
        if stored and self.passwords.needs_rehash(stored):
            rehashed = await self.passwords.hash(password)
            await db.exec(
                update(Account)
                .where(col(Account.id) == found["credential_id"])
                .values(password_hash=rehashed, updated_at=utcnow())
            )
        enrolled = self.gate.enrolled_in(factors, found)
        result = await self.open_session(db, meta, user, "password", remember, replaces, enrolled=enrolled)
        await self.failed_sign_ins.reset(email)
        return result

    def _sign_in_lookup(self) -> tuple[tuple[SecondFactor, ...], Select[Any]]:
        """sign_in's one SELECT for the second factors on now: the user, the credential, the enrolment."""
        factors, columns = self.gate.enrolment(_USER_ID)
        lookup = self._sign_in_lookups.get(factors)
        if lookup is None:  # one statement per set of factors, so that the reader compiles it once
            lookup = self._sign_in_lookups[factors] = _SIGN_IN_LOOKUP.add_columns(*columns)
        return factors, lookup

    async def open_session(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        user: User,
        method: str,
        persistent: bool,
        replaces: uuid.UUID | None = None,
        *,
        multi_factor: bool = False,
        second_factor: str | None = None,
        enrolled: Sequence[SecondFactor] | None = None,
    ) -> SignInResult:
        """The common end of every sign-in path: the second-factor gate, hooks, a fresh token, the event, commit.

        `replaces` is the session the browser had before, revoked so that no token survives a sign-in.
        Unless the caller proved a multi-factor credential (`multi_factor`), a user with an enrolled
        second factor gets no session here: a pending sign-in and `SecondFactorRequired` instead.
        `enrolled` is the user's factors when the caller read them already (the password sign-in
        reads them with the user); otherwise one SELECT here reads them.
        """
        if user.is_banned(utcnow()):
            await self.emit(db, EventName.SIGN_IN_FAILED, meta, None, "user", user.id, reason="banned", method=method)
            await db.commit()
            raise AccountBanned()
        trusted = False
        if multi_factor:
            factors: Sequence[SecondFactor] = ()
        else:
            factors = enrolled if enrolled is not None else await self.gate.enrolled(db, user.id)
        if factors:
            trusted = await self.gate.trusted(db, user.id, meta.trusted_device)
            if not trusted:
                token = await self.gate.start(db, user, method, persistent, replaces)
                names = [factor.name for factor in factors]
                await self.emit(
                    db, EventName.SECOND_FACTOR_REQUIRED, meta, user.id, "user", user.id, method=method, factors=names
                )
                await db.commit()
                raise SecondFactorRequired(token, names)
        ctx = hooks.HookContext(db, meta)
        await hooks.before_sign_in(ctx, user, method)
        if replaces is not None:
            await self.sessions.revoke(db, replaces)
        session, token = await self.sessions.create(db, user, meta, method, persistent)
        extra: dict[str, object] = {"second_factor": second_factor} if second_factor else {}
        if trusted:
            extra["trusted_device"] = True
        await self.emit(db, EventName.SESSION_CREATED, meta, user.id, "session", session.id, method=method, **extra)
        await hooks.after_sign_in(ctx, user, session)
        await db.commit()
        return SignInResult(user, session, token)

    # --- the second factor (see app.auth.second_factor) ------------------------------------

    async def pending_second_factor(self, db: AsyncSession, pending_token: str) -> PendingSignIn | None:
        """The browser's unexpired pending sign-in, not used up."""
        return await self.gate.pending(db, pending_token)

    async def require_pending(self, db: AsyncSession, pending_token: str) -> PendingSignIn:
        """The pending sign-in, or SecondFactorExpired, before one attempt at its second factor.

        The attempt spends a unit of the account's failed sign-in budget (TooManyAttempts once it
        is used up): a wrong code keeps it spent, `finish_second_factor` clears the budget.
        """
        pending = await self.gate.pending(db, pending_token)
        if pending is None:
            raise SecondFactorExpired()
        user = await db.get(User, pending.user_id)
        if user is None:
            raise SecondFactorExpired()
        await self.spend_attempt(user.email)
        return pending

    async def finish_second_factor(
        self, db: AsyncSession, meta: RequestMeta, pending_token: str, factor: str, *, trust_device: bool = False
    ) -> SignInResult:
        """Use the pending sign-in up (exactly once) and open its session, as multi-factor.

        Called by a feature in the transaction where it verified (and, for one-time codes, spent) its factor.
        """
        claimed = await self.gate.claim(db, pending_token)
        user = await db.get(User, claimed[0]) if claimed else None
        if claimed is None or user is None:
            await db.commit()
            raise SecondFactorExpired()
        _, method, persistent, replaces = claimed
        trust_token = None
        if trust_device:
            trust_token = await self.gate.trust(db, meta, user.id)
            await self.emit(db, EventName.TRUSTED_DEVICE_ADDED, meta, user.id, "user", user.id, factor=factor)
        result = await self.open_session(
            db, meta, user, method, persistent, replaces, multi_factor=True, second_factor=factor
        )
        await self.failed_sign_ins.reset(user.email)
        return dataclasses.replace(result, trust_token=trust_token)

    async def fail_second_factor(
        self, db: AsyncSession, meta: RequestMeta, pending_token: str, factor: str
    ) -> NoReturn:
        """Count a wrong code against the challenge (5 end it); raise.

        The attempt already spent its unit of the account's budget in `require_pending`.
        """
        counted = await self.gate.fail(db, pending_token)
        if counted is None:
            await db.commit()
            raise SecondFactorExpired()
        user_id, left = counted
        await self.emit(
            db, EventName.SECOND_FACTOR_FAILED, meta, None, "user", user_id, factor=factor, attempts_left=left
        )
        await db.commit()
        if left == 0:
            raise SecondFactorExpired("Too many wrong codes. Sign in again.")
        plural = "attempt" if left == 1 else "attempts"
        raise InvalidSecondFactor(f"That code is not correct. {left} {plural} left.", field="code")

    async def sign_out(self, db: AsyncSession, meta: RequestMeta, principal: Principal) -> None:
        """Delete the session row."""
        if await self.sessions.revoke(db, principal.session_id):
            await self.emit_revoked(db, meta, principal.user_id, [principal.session_id], "sign-out")
        await db.commit()

    async def send_verification(
        self, db: AsyncSession, meta: RequestMeta, email: str, callback: str | None = None
    ) -> None:
        """Mail a new verification link if the address belongs to an unverified user; silent otherwise."""
        email = self.normalize_email(email)
        await self.spend_mail_budget(email)
        user = await self.user_by_email(db, email)
        if user is None or user.email_verified:
            return
        token = await self.issue_token(db, VERIFY_EMAIL, email, self.settings.auth.verification_ttl)
        await db.commit()
        self.mailer.send(
            email, "verify_email", name=user.name, url=self.link("/verify-email", token=token, next=callback)
        )

    async def verify_email(self, db: AsyncSession, meta: RequestMeta, token: str) -> User:
        """Use up a verification link (1 hour, single use) or an email-change link."""
        email, _ = await self.consume_token(db, VERIFY_EMAIL, token)
        user = await self.user_by_email(db, email)
        if user is None:
            await db.commit()
            raise InvalidToken()
        if not user.email_verified:
            user.email_verified = True
            user.updated_at = utcnow()
            db.add(user)
            await self.emit(db, EventName.EMAIL_VERIFIED, meta, user.id, "user", user.id)
        await db.commit()
        return user

    async def request_password_reset(self, db: AsyncSession, meta: RequestMeta, email: str) -> None:
        """Mail a reset link when the address has an account; the answer is the same when not.

        The same in time as well: the link (a row, a commit, a rendered mail) is made after the
        answer (`Mailer.run_later`), so that no stopwatch tells which addresses have an account.
        """
        email = self.normalize_email(email)
        await self.spend_mail_budget(email)
        user = await self.user_by_email(db, email)
        if user is not None:
            self.mailer.run_later(self._mail_reset_link(meta, user.id, user.name, email))

    async def _mail_reset_link(self, meta: RequestMeta, user_id: uuid.UUID, name: str, email: str) -> None:
        async with AsyncSession(self.sessions.engine) as db:
            token = await self.issue_token(db, RESET_PASSWORD, str(user_id), self.settings.auth.reset_ttl)
            await self.emit(db, EventName.PASSWORD_RESET_REQUESTED, meta, None, "user", user_id)
            await db.commit()
        self.mailer.send(email, "reset_password", name=name, url=self.link("/reset-password", token=token))

    async def check_reset_token(self, db: AsyncSession, token: str) -> bool:
        """Whether a reset link is still usable (to show the form or the 'expired' page)."""
        if not token or len(token) > 128:
            return False
        row = (
            await db.exec(
                select(Verification).where(
                    Verification.token_hash == hash_token(token), Verification.purpose == RESET_PASSWORD
                )
            )
        ).first()
        return row is not None and row.expires_at > utcnow()

    async def reset_password(self, db: AsyncSession, meta: RequestMeta, token: str, new_password: str) -> None:
        """Set a new password from a reset link; signs out every session, does not sign in."""
        self.check_password_length(new_password, "newPassword")
        user_id, _ = await self.consume_token(db, RESET_PASSWORD, token)
        user = await db.get(User, uuid.UUID(user_id))
        if user is None:
            await db.commit()
            raise InvalidToken()
        try:
            self.check_new_password(new_password, user.email, "newPassword")
        except InvalidInput:
            await db.rollback()  # keep the link usable for a second try
            raise
        await self._set_password(db, user, await self.passwords.hash(new_password))
        user.email_verified = True  # the link proved the mailbox
        db.add(user)
        await self.drop_links(db, user.id)
        revoked = await self.sessions.revoke_all(db, user.id)
        await self.gate.revoke_trust(db, user.id)  # a browser trusted before the reset must ask again
        await self.failed_sign_ins.reset(user.email)  # the owner proved themselves: lift a lockout
        await self.emit_revoked(db, meta, user.id, revoked, "password-reset")
        await self.emit(db, EventName.PASSWORD_RESET, meta, user.id, "user", user.id, sessions_revoked=len(revoked))
        await db.commit()

    async def claim_unverified(self, db: AsyncSession, meta: RequestMeta, user: User, via: str) -> None:
        """A link mailed to the address proves it for the first time, for an account that never proved it.

        Whoever signed up with the address before its owner (account pre-hijacking) set the
        password and may hold sessions (when unverified sign-in is allowed): neither survives the
        owner's proof of the mailbox. The owner sets a password again with "Forgot password".
        """
        user.email_verified = True
        user.updated_at = utcnow()
        db.add(user)
        credential = await self.credential(db, user.id)
        if credential is not None:
            await db.delete(credential)
        revoked = await self.sessions.revoke_all(db, user.id)
        await self.gate.revoke_trust(db, user.id)
        await self.emit_revoked(db, meta, user.id, revoked, "email-verified")
        removed = credential is not None
        await self.emit(db, EventName.EMAIL_VERIFIED, meta, user.id, "user", user.id, via=via, password_removed=removed)

    async def _set_password(self, db: AsyncSession, user: User, password_hash: str) -> None:
        account = await self.credential(db, user.id)
        if account is None:
            account = Account(user_id=user.id, provider_id=CREDENTIAL_PROVIDER, account_id=str(user.id))
        account.password_hash = password_hash
        account.updated_at = utcnow()
        user.updated_at = utcnow()
        db.add(account)

    async def change_password(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, current: str, new: str, revoke_others: bool
    ) -> SignInResult:
        """Needs a fresh session and the current password; rotates this token, may sign out the others."""
        self.require_fresh(principal)
        self.check_password_length(current, "currentPassword")
        self.check_password_length(new, "newPassword")
        user = await db.get(User, principal.user_id)
        account = await self.credential(db, principal.user_id)
        if user is None or not await self.check_password(account, principal.email, current):
            raise InvalidInput("Your current password is not correct.", field="currentPassword")
        self.check_new_password(new, user.email, "newPassword")
        await self._set_password(db, user, await self.passwords.hash(new))
        await self.drop_links(db, user.id)
        if revoke_others:
            others = await self.sessions.revoke_all(db, user.id, keep=principal.session_id)
            await self.emit_revoked(db, meta, user.id, others, "password-changed")
        await self.emit(
            db, EventName.PASSWORD_CHANGED, meta, user.id, "user", user.id, other_sessions_revoked=revoke_others
        )
        return await self.open_session(
            db,
            meta,
            user,
            principal.sign_in_method,
            principal.persistent,
            replaces=principal.session_id,
            multi_factor=True,
        )

    async def reauthenticate(self, db: AsyncSession, meta: RequestMeta, principal: Principal, password: str) -> None:
        """Confirm the password to make the session fresh again."""
        self.check_password_length(password)
        account = await self.credential(db, principal.user_id)
        if not await self.check_password(account, principal.email, password):
            raise InvalidInput("That password is not correct.", field="password")
        await self.sessions.mark_fresh(db, principal.session_id)
        await self.emit(db, EventName.SESSION_REAUTHENTICATED, meta, principal.user_id, "session", principal.session_id)
        await db.commit()

    async def update_user(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, name: str | None, image: str | None = None
    ) -> User:
        """Change the display name (and avatar URL)."""
        user = await db.get(User, principal.user_id)
        if user is None:
            raise InvalidToken()
        changed = []
        if name is not None:
            user.name = self.clean_name(name)
            changed.append("name")
        if image is not None:
            if image and (len(image) > 2048 or not image.startswith("https://") or "\x00" in image):
                raise InvalidInput("The image must be an https:// URL.", field="image")
            user.image = image or None
            changed.append("image")
        user.updated_at = utcnow()
        db.add(user)
        await self.emit(db, EventName.USER_UPDATED, meta, user.id, "user", user.id, fields=changed)
        await db.commit()
        return user

    async def change_email(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, new_email: str, callback: str | None = None
    ) -> None:
        """Mail a confirmation link to the new address and a notice to the old one."""
        self.require_fresh(principal)
        new_email = self.normalize_email(new_email)
        if new_email == principal.email:
            raise InvalidInput("That is already your email address.", field="newEmail")
        await self.spend_mail_budget(new_email)
        if await self.user_by_email(db, new_email) is not None:
            self.mailer.send(new_email, "email_taken", sign_in_url=self.link("/sign-in"))
        else:
            token = await self.issue_token(
                db, CHANGE_EMAIL, str(principal.user_id), self.settings.auth.verification_ttl, payload=new_email
            )
            self.mailer.send(
                new_email,
                "confirm_email_change",
                name=principal.name,
                url=self.link("/verify-email/change", token=token, next=callback),
            )
        await self.emit(db, EventName.EMAIL_CHANGE_REQUESTED, meta, principal.user_id, "user", principal.user_id)
        await db.commit()
        self.mailer.send(principal.email, "email_change_notice", name=principal.name, new_email=new_email)

    async def confirm_email_change(self, db: AsyncSession, meta: RequestMeta, token: str) -> User:
        """Switch to the new address from the link sent to it."""
        user_id, new_email = await self.consume_token(db, CHANGE_EMAIL, token)
        user = await db.get(User, uuid.UUID(user_id))
        if user is None or await self.user_by_email(db, new_email) is not None:
            await db.commit()
            raise InvalidToken("This link is no longer valid: the address is already in use.")
        old = user.email
        user.email = new_email
        user.email_verified = True
        user.updated_at = utcnow()
        db.add(user)
        await self.drop_links(db, user.id)  # links mailed to the old address stop working
        await self.emit(db, EventName.EMAIL_CHANGED, meta, user.id, "user", user.id, old_domain=old.split("@")[-1])
        await db.commit()
        return user

    async def ban_user(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        user: User,
        reason: str | None = None,
        expires_at: datetime | None = None,
        actor_id: uuid.UUID | None = None,
    ) -> list[uuid.UUID]:
        """Suspend a user: every session ends now, and no sign-in or credential works until it lifts."""
        if expires_at is not None and expires_at <= utcnow():
            raise InvalidInput("A ban must end in the future.", field="expires")
        reason = " ".join((reason or "").split())[:500] or None
        user.banned, user.ban_reason, user.ban_expires = True, reason, expires_at
        user.updated_at = utcnow()
        db.add(user)
        ended = await self.sessions.revoke_all(db, user.id)
        until = expires_at.isoformat(timespec="seconds") if expires_at else None
        await self.emit(db, EventName.USER_BANNED, meta, actor_id, "user", user.id, reason=reason, until=until)
        if ended:
            await self.emit_revoked(db, meta, actor_id, ended, "ban")
        await db.commit()
        return ended

    async def unban_user(
        self, db: AsyncSession, meta: RequestMeta, user: User, actor_id: uuid.UUID | None = None
    ) -> None:
        """Lift a ban."""
        user.banned, user.ban_reason, user.ban_expires = False, None, None
        user.updated_at = utcnow()
        db.add(user)
        await self.emit(db, EventName.USER_UNBANNED, meta, actor_id, "user", user.id)
        await db.commit()

    async def delete_user(
        self, db: AsyncSession, meta: RequestMeta, principal: Principal, password: str | None = None
    ) -> None:
        """Delete the account and everything that cascades from it; needs a fresh session or the password."""
        if password:
            self.check_password_length(password)
            account = await self.credential(db, principal.user_id)
            if not await self.check_password(account, principal.email, password):
                raise InvalidInput("That password is not correct.", field="password")
        else:
            self.require_fresh(principal)
        user = await db.get(User, principal.user_id)
        if user is None:
            return
        await hooks.before_user_delete(hooks.HookContext(db, meta), user)
        await self.emit(db, EventName.USER_DELETED, meta, user.id, "user", user.id)
        await db.exec(delete(Verification).where(col(Verification.identifier).in_([user.email, str(user.id)])))
        await db.delete(user)
        await db.commit()
