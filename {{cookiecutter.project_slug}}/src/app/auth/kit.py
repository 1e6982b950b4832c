"""AuthKit: the auth core's one object, which its flows and every feature work with.

What a sign-in method, a second factor or an account page needs of the core, and nothing else:
clean input, find and create users (with the team's hooks and the `user.created` event), issue,
peek at and use up single-use tokens, open a session (or hand over to the second factor), finish
or fail a second factor, require a fresh session, record an event, make links and send mail
within its budget, and build cookies. No HTTP objects: routes and views turn its results into
answers. The flows built on it (sign-up, sign-in, passwords, email, account) live in
`app.auth.flows`.

Transactions belong to the caller: a method that writes adds to the caller's session and does
not commit, unless its name says it ends the operation (`open_session`, `finish_second_factor`
and `fail_second_factor` commit, so that their outcome stands whatever the caller does next).
"""

from __future__ import annotations

import dataclasses
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from litestar.datastructures import Cookie
from litestar.stores.base import Store
from sqlalchemy import delete
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import hooks
from app.auth.models import CREDENTIAL_PROVIDER, Account, PendingSignIn, Session, User, Verification
from app.auth.passwords import PasswordPolicyError, Passwords
from app.auth.second_factor import InvalidSecondFactor, SecondFactor, SecondFactorExpired, SecondFactorGate
from app.auth.sessions import Principal, SessionManager
from app.core.cookies import Cookies
from app.core.crypto import hash_token, new_token, usable_token
from app.core.db import Database, utcnow
from app.core.errors import AccountBanned, AppError, InvalidInput, InvalidToken, SessionNotFresh, TooManyAttempts
from app.core.events import Event, EventBus, EventName, RequestMeta
from app.core.mail import Mailer
from app.core.names import one_line_name
from app.core.ratelimit import AttemptBudget
from app.settings import Settings

NAME_MAX = 100
PROVIDERS_MAX = 50  # account_providers: far more than any user links
# An account that signs its user in: a password account only while it holds a password.
USABLE_ACCOUNT = col(Account.password_hash).is_not(None) | (col(Account.provider_id) != CREDENTIAL_PROVIDER)
LOCKED_OUT = "Too many failed sign-ins for this account. Try again later or reset your password."

MethodCounter = Callable[[AsyncSession, uuid.UUID], Awaitable[int]]
# A feature's reason to keep a session from sensitive actions: the error to raise, or None.
SensitiveRefusal = Callable[[Principal], AppError | None]


@dataclass(frozen=True)
class SignInResult:
    """A new session and the secret token that goes into the cookie."""

    user: User
    session: Session
    token: str
    # The trusted-device cookie's value, when the user ticked "Trust this device" on the challenge.
    trust_token: str | None = None


@dataclass(frozen=True)
class Challenge:
    """The first factor passed and a second one is due: no session yet, a pending sign-in instead.

    `token` goes into the pending cookie; `factors` are the names of the user's second factors.
    Routes and views answer it with app.auth.web.signed_in (the challenge page, or Better Auth's
    `twoFactorRedirect` for JSON clients).
    """

    token: str
    factors: list[str]


SignInOutcome = SignInResult | Challenge


class AuthKit:
    """The auth core's rules that flows and features share; one instance per app (`app.state.auth`)."""

    def __init__(
        self,
        settings: Settings,
        sessions: SessionManager,
        passwords: Passwords,
        bus: EventBus,
        mailer: Mailer,
        store: Store,
        db: Database,
        second_factors: Sequence[SecondFactor] = (),
    ) -> None:
        self.settings = settings
        self.db = db  # the app's database (engine, session factory, hot-path reader), for features' services
        self.store = store  # the shared store (Redis or memory) that budgets and counters use
        self.sessions = sessions
        self.passwords = passwords
        self.bus = bus
        self.mailer = mailer
        self.cookies = Cookies(settings.app)
        limits = settings.rate_limit
        self.failed_sign_ins = AttemptBudget(
            store, "failed-sign-in", limits.failed_sign_in_budget, limits.failed_sign_in_window
        )
        self.mail_budget = AttemptBudget(store, "mail", limits.mail_per_address, 60)
        self.gate = SecondFactorGate(settings, list(second_factors))
        # Ways to sign in that a feature keeps outside the `account` table: its setup adds a counter
        # (`count_sign_in_methods_with`), so that no feature lets the last one go.
        self.method_counters: list[MethodCounter] = []
        # Sessions a feature keeps from sensitive actions whatever their age (`refuse_sensitive_when`).
        self.sensitive_refusals: list[SensitiveRefusal] = []

    def count_sign_in_methods_with(self, counter: MethodCounter) -> None:
        """Count a feature's own sign-in methods too (see sign_in_methods)."""
        self.method_counters.append(counter)

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

    @staticmethod
    def clean_name(raw: str) -> str:
        """A display name: one visible line of 1..100 characters (app.core.names)."""
        name = one_line_name(raw, NAME_MAX)
        if name is None:
            raise InvalidInput(f"Enter your name (at most {NAME_MAX} characters).", field="name")
        return name

    # --- users ---------------------------------------------------------------------------

    async def user_by_email(self, db: AsyncSession, email: str) -> User | None:
        """The user with this (normalised) address."""
        return (await db.exec(select(User).where(User.email == email))).first()

    async def credential(self, db: AsyncSession, user_id: uuid.UUID) -> Account | None:
        """The password account of a user, if they have one."""
        query = select(Account).where(Account.user_id == user_id, Account.provider_id == CREDENTIAL_PROVIDER)
        return (await db.exec(query)).first()

    async def create_user(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        *,
        name: str,
        email: str,
        method: str,
        email_verified: bool = False,
        user_id: uuid.UUID | None = None,
        image: str | None = None,
    ) -> User:
        """Add a user in the caller's transaction: the team's hooks around it, `user.created` after.

        The row is flushed (its id usable by the rows that reference it); an address taken in the
        meantime raises IntegrityError, which the caller answers as it answers a taken address.
        """
        ctx = hooks.HookContext(db, meta)
        await hooks.before_user_create(ctx, name, email)
        user = User(name=name, email=email, email_verified=email_verified, image=image)
        if user_id is not None:
            user.id = user_id
        db.add(user)
        await db.flush()
        await self.record(
            db, EventName.USER_CREATED, meta, actor=user.id, target_type="user", target_id=user.id, method=method
        )
        await hooks.after_user_create(ctx, user)
        return user

    async def sign_in_methods(self, db: AsyncSession, user_id: uuid.UUID) -> int:
        """How many ways the user has to sign in: a password, each linked provider, and what features
        keep in their own tables. Removing one is refused while it is the last."""
        query = select(func.count()).select_from(Account).where(col(Account.user_id) == user_id, USABLE_ACCOUNT)
        accounts = (await db.exec(query)).one()
        return int(accounts) + sum([await count(db, user_id) for count in self.method_counters])

    async def account_providers(self, db: AsyncSession, user_id: uuid.UUID) -> list[str]:
        """The provider ids of the accounts the user can sign in with, each once, oldest link first:
        CREDENTIAL_PROVIDER when they have a password, a provider's own id per linked provider.

        For pages that say how someone signs in (words for an id: `UI.labels`). What features keep
        in their own tables is theirs to show. Bounded: a user links a few providers.
        """
        query = (
            select(col(Account.provider_id))
            .where(col(Account.user_id) == user_id, USABLE_ACCOUNT)
            .group_by(col(Account.provider_id))
            .order_by(func.min(col(Account.created_at)), col(Account.provider_id))
            .limit(PROVIDERS_MAX)
        )
        return list((await db.exec(query)).all())

    # --- events --------------------------------------------------------------------------

    async def record(
        self,
        db: AsyncSession,
        name: str,
        meta: RequestMeta,
        *,
        actor: uuid.UUID | None,
        target_type: str,
        target_id: object = None,
        **data: object,
    ) -> None:
        """Record an event in the caller's transaction (audit log, listeners): who did it (`actor`,
        None for nobody signed in) to what (`target_type`, `target_id`), and what else to know.

        `name` must be in the app's event catalogue (UncataloguedEvent otherwise; see
        app.core.event_catalogue): declared with its meaning beside the code that records it."""
        target = str(target_id) if target_id is not None else None
        await self.bus.emit(db, Event(name, actor, target_type, target, meta, dict(data)))

    async def record_revoked(
        self, db: AsyncSession, meta: RequestMeta, actor: uuid.UUID | None, session_ids: list[uuid.UUID], reason: str
    ) -> None:
        """One `session.revoked` event per session that went, saying why."""
        for session_id in session_ids:
            await self.record(
                db,
                EventName.SESSION_REVOKED,
                meta,
                actor=actor,
                target_type="session",
                target_id=session_id,
                reason=reason,
            )

    # --- single-use tokens ---------------------------------------------------------------

    async def issue_token(
        self, db: AsyncSession, purpose: str, identifier: str, ttl: int, payload: str = "", *, token: str | None = None
    ) -> str:
        """Store the hash of a new single-use token (or of `token`, a secret the caller made); return the token."""
        token = token or new_token()
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

    async def peek_token(self, db: AsyncSession, purpose: str, token: str) -> tuple[str, str] | None:
        """A usable token's identifier and payload, without using it up (to show a form first)."""
        if not usable_token(token):
            return None
        query = select(Verification).where(
            Verification.token_hash == hash_token(token), Verification.purpose == purpose
        )
        row = (await db.exec(query)).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return row.identifier, row.payload

    async def consume_token(
        self, db: AsyncSession, purpose: str, token: str, *, identifier: str | None = None
    ) -> tuple[str, str]:
        """Use a token up (DELETE ... RETURNING, atomic): its identifier and payload, or InvalidToken.

        With `identifier`, only a token issued for that identifier is used (a browser's binding, say).
        """
        if not usable_token(token):
            raise InvalidToken()
        V = Verification.__table__.c  # type: ignore[attr-defined]  # noqa: N806
        condition = (V.token_hash == hash_token(token)) & (V.purpose == purpose)
        if identifier is not None:
            condition &= V.identifier == identifier
        query = delete(Verification).where(condition).returning(V.identifier, V.payload, V.expires_at)
        row = (await db.exec(query)).first()
        if row is None or row.expires_at <= utcnow():
            raise InvalidToken()
        return str(row.identifier), str(row.payload)

    async def drop_links(self, db: AsyncSession, user_id: uuid.UUID) -> None:
        """Forget every emailed link issued to the account (reset, sign-in links ...), used or not.

        After a password reset or change, or a change of address, a link still lying in a mailbox
        (maybe the old address's) must not reset the password or sign in again.
        """
        await db.exec(delete(Verification).where(col(Verification.identifier) == str(user_id)))

    # --- mail ----------------------------------------------------------------------------

    def link(self, path: str, **params: str | None) -> str:
        """An absolute link to this app for an email."""
        query = urlencode({k: v for k, v in params.items() if v})
        return f"{self.settings.app.base_url.rstrip('/')}{path}{'?' + query if query else ''}"

    async def spend_mail_budget(self, email: str) -> None:
        """At most RATE_LIMIT_MAIL_PER_ADDRESS mails a minute to one address, whether it exists or not."""
        wait = await self.mail_budget.spend(email)
        if wait:
            raise TooManyAttempts(wait, "Too many emails sent to this address. Wait a minute.")

    def send_mail(self, to: str, template: str, **context: Any) -> None:
        """Render `mail/<template>` now and deliver it in the background (app.core.mail)."""
        self.mailer.send(to, template, **context)

    def run_later(self, job: Coroutine[Any, Any, None]) -> None:
        """Run the whole work of a mail after the answer (its time must not show in the answer)."""
        self.mailer.run_later(job)

    # --- credentials ---------------------------------------------------------------------

    async def spend_attempt(self, email: str) -> None:
        """Spend one unit of the account's failed sign-in budget before checking one of its credentials.

        Spent before the check, so that attempts made at once cannot all pass; a right password
        gives it back (`take_back`), a completed sign-in clears the budget. TooManyAttempts when
        the budget (RATE_LIMIT_FAILED_SIGN_IN_BUDGET per window) is used up.
        """
        wait = await self.failed_sign_ins.spend(email)
        if wait:
            raise TooManyAttempts(wait, LOCKED_OUT)

    async def check_password(self, account: Account | None, email: str, password: str) -> bool:
        """A password check that pays with the account's budget: a wrong password keeps its unit spent."""
        await self.spend_attempt(email)
        if not await self.passwords.verify(account.password_hash if account else None, password):
            return False
        await self.failed_sign_ins.take_back(email)
        return True

    def session_cookie(self, result: SignInResult) -> Cookie:
        """The cookie that carries a new session to the browser (see SessionManager.cookie)."""
        return self.sessions.cookie(result.token, result.session.persistent, result.session.expires_at)

    def refuse_sensitive_when(self, refusal: SensitiveRefusal) -> None:
        """Keep some sessions from sensitive actions, however fresh (the admin console: an impersonation).

        `refusal(principal)` returns the error to raise for that session, or None to let it through.
        """
        self.sensitive_refusals.append(refusal)

    def check_sensitive(self, principal: Principal) -> None:
        """Raise the error of the first refusal that keeps this session from sensitive actions."""
        for refusal in self.sensitive_refusals:
            error = refusal(principal)
            if error is not None:
                raise error

    def require_fresh(self, principal: Principal) -> None:
        """Sensitive actions need a session no feature refuses, signed in or re-authenticated recently."""
        self.check_sensitive(principal)
        if not principal.is_fresh(self.settings.auth.fresh_age):
            raise SessionNotFresh()

    # --- sessions and the second factor (see app.auth.second_factor) ----------------------

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
    ) -> SignInOutcome:
        """The common end of every sign-in path: the second-factor gate, hooks, a fresh token, the event, commit.

        `replaces` is the session the browser had before, revoked so that no token survives a sign-in.
        Unless the caller proved a multi-factor credential (`multi_factor`), a user with an enrolled
        second factor gets no session here: a pending sign-in, returned as a `Challenge`.
        `enrolled` is the user's factors when the caller read them already (the password sign-in
        reads them with the user); otherwise one SELECT here reads them.
        """
        if user.is_banned(utcnow()):
            await self.record(
                db,
                EventName.SIGN_IN_FAILED,
                meta,
                actor=None,
                target_type="user",
                target_id=user.id,
                reason="banned",
                method=method,
            )
            await db.commit()
            raise AccountBanned()
        trusted = False
        factors: Sequence[SecondFactor] = ()
        if not multi_factor:
            factors = enrolled if enrolled is not None else await self.gate.enrolled(db, user.id)
        if factors:
            trusted = await self.gate.trusted(db, user.id, meta.trusted_device)
            if not trusted:
                token = await self.gate.start(db, user, method, persistent, replaces)
                names = [factor.name for factor in factors]
                await self.record(
                    db,
                    EventName.SECOND_FACTOR_REQUIRED,
                    meta,
                    actor=user.id,
                    target_type="user",
                    target_id=user.id,
                    method=method,
                    factors=names,
                )
                await db.commit()
                return Challenge(token, names)
        ctx = hooks.HookContext(db, meta)
        await hooks.before_sign_in(ctx, user, method)
        if replaces is not None:
            await self.sessions.revoke(db, replaces)
        session, token = await self.sessions.create(db, user, meta, method, persistent)
        extra: dict[str, object] = {"second_factor": second_factor} if second_factor else {}
        if trusted:
            extra["trusted_device"] = True
        await self.record(
            db,
            EventName.SESSION_CREATED,
            meta,
            actor=user.id,
            target_type="session",
            target_id=session.id,
            method=method,
            **extra,
        )
        await hooks.after_sign_in(ctx, user, session)
        await db.commit()
        return SignInResult(user, session, token)

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
            await self.record(
                db,
                EventName.TRUSTED_DEVICE_ADDED,
                meta,
                actor=user.id,
                target_type="user",
                target_id=user.id,
                factor=factor,
            )
        result = await self.open_session(
            db, meta, user, method, persistent, replaces, multi_factor=True, second_factor=factor
        )
        if not isinstance(result, SignInResult):  # multi-factor: never a challenge
            raise RuntimeError("a multi-factor sign-in was challenged")
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
        await self.record(
            db,
            EventName.SECOND_FACTOR_FAILED,
            meta,
            actor=None,
            target_type="user",
            target_id=user_id,
            factor=factor,
            attempts_left=left,
        )
        await db.commit()
        if left == 0:
            raise SecondFactorExpired("Too many wrong codes. Sign in again.")
        plural = "attempt" if left == 1 else "attempts"
        raise InvalidSecondFactor(f"That code is not correct. {left} {plural} left.", field="code")
