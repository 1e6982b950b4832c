"""The second-factor gate: after a first factor, users with a second one get a challenge, not a session.

`AuthKit.open_session` is the one end of every sign-in path (the password, and
every way a feature adds). When a feature reports an enrolled second factor (`Feature.second_factors`) and the
caller did not prove one already (`multi_factor=True`), it stores a *pending sign-in* (hashed
random token, 5 minutes, at most 5 wrong codes) and returns a `Challenge` instead of a session;
`challenge_response` here answers it with the pending cookie and a redirect to
`/sign-in/second-factor` (JSON clients get Better Auth's `{"twoFactorRedirect": true}`). The
pending cookie is not a session: every protected route still answers 401 until a factor calls
`auth.finish_second_factor`.

A browser where the user ticked "Trust this device" carries a signed cookie naming a
`trusted_device` row (30 days, revocable from the security page); it skips the challenge.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect
from sqlalchemy import ColumnElement, Label, bindparam, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.auth.devices import DeviceInfo, describe
from app.auth.models import PendingSignIn, TrustedDevice, User
from app.core.cookies import Cookies
from app.core.crypto import Signer, hash_token, new_token, usable_token
from app.core.db import utcnow
from app.core.errors import AppError, wants_json
from app.core.events import RequestMeta

if TYPE_CHECKING:
    from app.auth.kit import Challenge, SignInResult
    from app.settings import Settings

CHALLENGE_PATH = "/sign-in/second-factor"
PENDING_TTL = 300
MAX_ATTEMPTS = 5
TRUST_DAYS = 30
P = PendingSignIn.__table__.c  # type: ignore[attr-defined]
T = TrustedDevice.__table__.c  # type: ignore[attr-defined]
U = User.__table__.c  # type: ignore[attr-defined]
ENROLMENT_LABEL = "second_factor_"  # the enrolment columns: second_factor_0, second_factor_1 ...
ENROLMENT_USER = bindparam("enrolment_user_id", type_=U.id.type)


@runtime_checkable
class SecondFactor(Protocol):
    """What a feature offering a second factor contributes (see `Feature.second_factors`)."""

    name: str  # a stable key, e.g. "recovery_code"
    label: str  # "Authenticator app"
    template: str  # partial included on the challenge page, e.g. "<feature>/challenge.html"

    def offered(self, settings: Settings) -> bool:
        """False while a setting switches the factor off."""
        ...

    def enrolled_when(self, user_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
        """A SQL condition, true when the user whose id is `user_id` can pass this factor.

        `user_id` is the user table's id column (the password sign-in reads every factor's
        condition in its one SELECT of the user) or a bound parameter (the other sign-in paths).
        The gate asks once per `user_id` and keeps the condition: it may depend on nothing else.
        """
        ...


class SecondFactorExpired(AppError):
    """No pending sign-in for this browser: never started, used, expired, or 5 wrong codes."""

    code = "INVALID_TWO_FACTOR_COOKIE"
    status_code = 401
    default_message = "Your sign-in has expired. Sign in again."


class InvalidSecondFactor(AppError):
    """A wrong code; the challenge goes on while attempts are left."""

    code = "INVALID_CODE"
    status_code = 401
    default_message = "That code is not correct."


@dataclass(frozen=True)
class TrustedDeviceRow:
    """One line of the trusted-device list on the security page."""

    id: uuid.UUID
    device: DeviceInfo
    ip_address: str | None
    created_at: datetime
    expires_at: datetime
    current: bool = False


class SecondFactorGate:
    """Pending sign-ins, trusted devices and their cookies; no HTTP objects besides cookies."""

    def __init__(self, settings: Settings, factors: list[SecondFactor]) -> None:
        self.factors = factors
        self.settings = settings
        self.cookies = Cookies(settings.app)
        self.pending_cookie_name = self.cookies.name("pending_sign_in")
        self.trust_cookie_name = self.cookies.name("trusted_device")
        self._trust_signer = Signer(
            settings.secrets.secret_key, "trusted-device", settings.secrets.secret_key_fallbacks
        )
        # Built once per set of offered factors, so that SQLAlchemy and the direct reader compile them once.
        self._enrolment: dict[tuple[ColumnElement[uuid.UUID], tuple[SecondFactor, ...]], list[Label[bool]]] = {}
        self._enrolment_selects: dict[tuple[SecondFactor, ...], Select[Any]] = {}

    def enrolment(self, user_id: ColumnElement[uuid.UUID]) -> tuple[tuple[SecondFactor, ...], list[Label[bool]]]:
        """The factors offered now, and per factor a labelled column over `user_id`, true when
        that user can pass it (for a SELECT of the user: `enrolled_in` reads its row)."""
        factors = tuple(factor for factor in self.factors if factor.offered(self.settings))
        columns = self._enrolment.get((user_id, factors))
        if columns is None:
            labelled = [f.enrolled_when(user_id).label(f"{ENROLMENT_LABEL}{n}") for n, f in enumerate(factors)]
            columns = self._enrolment[user_id, factors] = labelled
        return factors, columns

    @staticmethod
    def enrolled_in(factors: Sequence[SecondFactor], row: Mapping[Any, Any]) -> list[SecondFactor]:
        """The factors that a row carrying the `enrolment` columns says the user can pass."""
        return [factor for n, factor in enumerate(factors) if row[f"{ENROLMENT_LABEL}{n}"]]

    async def enrolled(self, db: AsyncSession, user_id: uuid.UUID) -> list[SecondFactor]:
        """The factors this user can pass, in feature order: one SELECT in the caller's transaction."""
        factors, columns = self.enrolment(ENROLMENT_USER)
        if not factors:
            return []
        query = self._enrolment_selects.get(factors)
        if query is None:
            query = self._enrolment_selects[factors] = Select(*columns)  # a row, even of one column
        values: Sequence[Any] = (await db.exec(query, params={ENROLMENT_USER.key: user_id})).one()
        return [factor for factor, on in zip(factors, values, strict=True) if on]

    # --- pending sign-ins ------------------------------------------------------------------

    async def start(
        self, db: AsyncSession, user: User, method: str, persistent: bool, replaces: uuid.UUID | None
    ) -> str:
        """Store a pending sign-in (the caller commits); return its secret token for the cookie."""
        token = new_token()
        now = utcnow()
        db.add(
            PendingSignIn(
                user_id=user.id,
                token_hash=hash_token(token),
                method=method,
                persistent=persistent,
                replaces=replaces,
                created_at=now,
                expires_at=now + timedelta(seconds=PENDING_TTL),
            )
        )
        return token

    async def pending(self, db: AsyncSession, token: str) -> PendingSignIn | None:
        """The unexpired pending sign-in of this token, without using it up."""
        if not usable_token(token):
            return None
        row = (await db.exec(select(PendingSignIn).where(PendingSignIn.token_hash == hash_token(token)))).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return row

    async def claim(self, db: AsyncSession, token: str) -> tuple[uuid.UUID, str, bool, uuid.UUID | None] | None:
        """Atomically use the pending sign-in up (DELETE ... RETURNING): exactly one caller gets it."""
        if not usable_token(token):
            return None
        query = (
            delete(PendingSignIn)
            .where(P.token_hash == hash_token(token))
            .returning(P.user_id, P.method, P.persistent, P.replaces, P.expires_at)
        )
        row = (await db.exec(query)).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return row.user_id, row.method, row.persistent, row.replaces

    async def fail(self, db: AsyncSession, token: str) -> tuple[uuid.UUID, int] | None:
        """Count a wrong code; (user id, attempts left), the row deleted at 0; None if there is no challenge."""
        if not usable_token(token):
            return None
        query = (
            update(PendingSignIn)
            .where(P.token_hash == hash_token(token), P.expires_at > utcnow())
            .values(attempts=P.attempts + 1)
            .returning(P.user_id, P.attempts)
        )
        row = (await db.exec(query)).first()
        if row is None:
            return None
        left = max(0, MAX_ATTEMPTS - int(row.attempts))
        if left == 0:
            await db.exec(delete(PendingSignIn).where(P.token_hash == hash_token(token)))
        return row.user_id, left

    async def delete_expired(self, db: AsyncSession) -> int:
        """Remove stale pending sign-ins and trusted devices (`app sessions cleanup`)."""
        now = utcnow()
        pending = await db.exec(delete(PendingSignIn).where(P.expires_at <= now))
        trusted = await db.exec(delete(TrustedDevice).where(T.expires_at <= now))
        return int(pending.rowcount or 0) + int(trusted.rowcount or 0)

    # --- trusted devices -------------------------------------------------------------------

    async def trust(self, db: AsyncSession, meta: RequestMeta, user_id: uuid.UUID) -> str:
        """Remember this browser for TRUST_DAYS (the caller commits); return the signed cookie value."""
        token = new_token()
        now = utcnow()
        db.add(
            TrustedDevice(
                user_id=user_id,
                token_hash=hash_token(token),
                ip_address=meta.ip,
                user_agent=(meta.user_agent or "")[:512] or None,
                created_at=now,
                last_used_at=now,
                expires_at=now + timedelta(days=TRUST_DAYS),
            )
        )
        return self._trust_signer.sign(token)

    async def trusted(self, db: AsyncSession, user_id: uuid.UUID, cookie_value: str | None) -> bool:
        """Whether the browser's trust cookie names an unexpired trust record of this user."""
        token = self._trust_signer.unsign(cookie_value) if cookie_value and len(cookie_value) < 200 else None
        if not token:
            return False
        query = select(TrustedDevice).where(
            TrustedDevice.token_hash == hash_token(token),
            TrustedDevice.user_id == user_id,
            col(TrustedDevice.expires_at) > utcnow(),
        )
        row = (await db.exec(query)).first()
        if row is None:
            return False
        row.last_used_at = utcnow()
        db.add(row)
        return True

    def current_trust_hash(self, cookie_value: str | None) -> str | None:
        """The stored hash of the browser's trust cookie (to mark "this device" in the list)."""
        token = self._trust_signer.unsign(cookie_value) if cookie_value and len(cookie_value) < 200 else None
        return hash_token(token) if token else None

    async def trusted_devices(
        self, db: AsyncSession, user_id: uuid.UUID, cookie_value: str | None = None
    ) -> list[TrustedDeviceRow]:
        """The user's unexpired trusted browsers, newest first."""
        current = self.current_trust_hash(cookie_value)
        query = (
            select(TrustedDevice)
            .where(TrustedDevice.user_id == user_id, col(TrustedDevice.expires_at) > utcnow())
            .order_by(col(TrustedDevice.created_at).desc())
        )
        return [
            TrustedDeviceRow(
                row.id,
                describe(row.user_agent),
                row.ip_address,
                row.created_at,
                row.expires_at,
                row.token_hash == current,
            )
            for row in (await db.exec(query)).all()
        ]

    async def revoke_trust(self, db: AsyncSession, user_id: uuid.UUID, device_id: uuid.UUID | None = None) -> int:
        """Forget one trusted browser of the user (or all of them); how many went."""
        query = delete(TrustedDevice).where(T.user_id == user_id)
        if device_id is not None:
            query = query.where(T.id == device_id)
        result = await db.exec(query)
        return int(result.rowcount or 0)

    # --- cookies ---------------------------------------------------------------------------

    def pending_cookie(self, token: str) -> Cookie:
        """The browser's handle on its pending sign-in: HttpOnly, `__Host-` in production, 5 minutes."""
        return self.cookies.make("pending_sign_in", token, max_age=PENDING_TTL)

    def clear_pending_cookie(self) -> Cookie:
        """Expire the pending cookie (after success, cancel or expiry)."""
        return self.cookies.expired("pending_sign_in")

    def trust_cookie(self, value: str) -> Cookie:
        """The trusted-device cookie, kept TRUST_DAYS."""
        return self.cookies.make("trusted_device", value, max_age=TRUST_DAYS * 86400)


def pending_token(request: Request[Any, Any, Any]) -> str:
    """The pending sign-in token from the request's cookie ('' when absent)."""
    gate: SecondFactorGate = request.app.state.auth.gate
    return request.cookies.get(gate.pending_cookie_name, "")


def session_cookies(request: Request[Any, Any, Any], result: SignInResult) -> list[Cookie]:
    """After a passed challenge: the session cookie, the pending cookie cleared, the trust cookie if asked for."""
    auth = request.app.state.auth
    cookies = [
        auth.session_cookie(result),
        auth.gate.clear_pending_cookie(),
    ]
    if result.trust_token:
        cookies.append(auth.gate.trust_cookie(result.trust_token))
    return cookies


def challenge_location(next_path: str | None) -> str:
    """The challenge page, carrying where to go afterwards."""
    if next_path and next_path != "/":
        return f"{CHALLENGE_PATH}?{urlencode({'next': next_path})}"
    return CHALLENGE_PATH


def challenge_response(
    request: Request[Any, Any, Any], challenge: Challenge, next_path: str | None = None, *, navigation: bool = False
) -> Response[Any]:
    """The answer to a sign-in that needs its second factor: the pending cookie, then the challenge.

    JSON clients get Better Auth's `{"twoFactorRedirect": true, "twoFactorMethods": [...]}`;
    browsers a redirect (HX-Redirect for htmx) to the challenge page, which goes on to
    `next_path` (else the request's `next`) once the factor is passed. A session cookie the
    browser had stays untouched: its session is revoked (`replaces`) only when the challenge is
    passed. `navigation`: a browser navigation under /api/ (a provider's redirect back), which
    gets the page, never the JSON answer.
    """
    gate: SecondFactorGate = request.app.state.auth.gate
    cookie = gate.pending_cookie(challenge.token)
    if wants_json(request) and not navigation:
        body = {"twoFactorRedirect": True, "twoFactorMethods": challenge.factors}
        return Response(body, status_code=200, cookies=[cookie], headers={"cache-control": "no-store"})
    location = challenge_location(next_path or request.query_params.get("next"))
    if request.headers.get("hx-request"):
        return Response(None, status_code=200, headers={"HX-Redirect": location}, cookies=[cookie])
    return Redirect(location, status_code=303, cookies=[cookie])
