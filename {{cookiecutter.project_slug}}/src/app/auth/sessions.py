"""Database sessions: creation, the hot-path lookup, renewal, revocation and the cookie.

The lookup is one indexed SELECT by token hash, a Core statement compiled once and run on the
driver directly (app.core.db.DirectReader: no ORM objects, no async layers on the hot path; the
lookups of requests that arrive together share one trip to the database, app.core.db.KeyedLookup); it
writes, through SQLAlchemy, only when the session has expired (deleted) or is due for renewal
(at most once per AUTH_SESSION_UPDATE_AGE). With AUTH_COOKIE_CACHE on, a signed cookie holding
the resolved session spares even that SELECT for up to AUTH_COOKIE_CACHE_MAX_AGE seconds, which
is also how long a revoked session can keep working in that browser.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from litestar.datastructures import Cookie
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select as select_models
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.models import Session, User
from app.core.cookies import Cookies
from app.core.crypto import Signer, hash_token, new_token, usable_token
from app.core.db import DirectReader, KeyedLookup, utcnow
from app.core.events import RequestMeta
from app.settings import Settings

T = TypeVar("T")
CACHE_MEMO_SIZE = 10_000  # cache cookies remembered per process (about 2 kB each)
PRINCIPAL_MEMO_SIZE = 10_000  # looked-up principals remembered per process (about 2 kB each, answer included)

S = Session.__table__.c  # type: ignore[attr-defined]
U = User.__table__.c  # type: ignore[attr-defined]

_LOOKUP = KeyedLookup(
    select(
        S.id.label("session_id"),
        S.user_id,
        S.persistent,
        S.sign_in_method,
        S.authenticated_at,
        S.created_at,
        S.updated_at,
        S.expires_at,
        S.absolute_expires_at,
        S.ip_address,
        S.user_agent,
        U.email,
        U.name,
        U.email_verified,
        U.image,
        U.role,
        U.created_at.label("user_created_at"),
        U.updated_at.label("user_updated_at"),
    ).join_from(Session, User, S.user_id == U.id),
    S.token_hash,
    "token_hash",
)


@dataclass(frozen=True)
class SessionField:
    """A field a feature adds to every signed-in session; get-session reports it in `session`.

    `column` is a scalar SQL expression over the `session` row, usually a subquery correlated to
    `app.auth.models.Session` (a value chosen per session, such as a selected workspace). The session
    lookup's one SELECT reads it together with the session, so it costs no query of its own, it is
    on every request's principal (`Principal.field(name)`), and the cookie cache's snapshot
    carries it (it is then as current as the snapshot). Its value must be JSON: a string, number,
    boolean or null; UUIDs are given as strings.
    """

    name: str
    column: ColumnElement[Any]


@dataclass(frozen=True)
class Principal:
    """The signed-in user and their session, as resolved for one request."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    email_verified: bool
    image: str | None
    role: str
    persistent: bool
    sign_in_method: str
    authenticated_at: datetime
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    absolute_expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    user_created_at: datetime
    user_updated_at: datetime
    # The fields features add to the session (SessionField), as (name, value) pairs.
    fields: tuple[tuple[str, Any], ...] = ()

    def field(self, name: str) -> Any:
        """The value of a feature's session field (None when no enabled feature adds it)."""
        return next((value for key, value in self.fields if key == name), None)

    def memo(self, build: Callable[[Principal], T]) -> T:
        """`build(self)`, computed once per principal object and kept on it.

        A principal is the same object on every request of its session while its row reads the
        same (SessionManager._principal), and so is one from the cookie cache
        (SessionManager.read_cache_cookie): what is derived from it, such as the get-session
        answer, is then built once rather than on every request. `build` must depend on the
        principal alone.
        """
        memo: dict[Any, Any] | None = self.__dict__.get("_memo")
        if memo is None:
            memo = self.__dict__["_memo"] = {}
        try:
            value: T = memo[build]
        except KeyError:
            value = memo[build] = build(self)
        return value

    def is_fresh(self, fresh_age: int) -> bool:
        """Signed in (or re-authenticated) within the last `fresh_age` seconds."""
        return utcnow() - self.authenticated_at < timedelta(seconds=fresh_age)


class SessionManager:
    """Everything about session tokens; holds no per-request state."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        reader: DirectReader | None = None,
        fields: Sequence[SessionField] = (),
    ) -> None:
        self.settings = settings
        self.auth = settings.auth
        self.engine = engine
        self.reader = reader or DirectReader(engine)
        # The lookup reads the features' session fields in the same SELECT, labelled by position.
        self._field_names = tuple(f.name for f in fields)
        self._field_labels = tuple(f"field_{n}" for n in range(len(fields)))
        self._lookup = _LOOKUP.add_columns(
            *(f.column.label(label) for f, label in zip(fields, self._field_labels, strict=True))
        )
        self._update_age = timedelta(seconds=self.auth.session_update_age)
        self._max_age = timedelta(seconds=self.auth.session_max_age)
        self.cookies = Cookies(settings.app)
        self.cookie_name = self.cookies.name("session")
        self.cache_cookie_name = self.cookies.name("session_cache")
        # Verified cache cookies by value: (principal, token binding, expiry); see read_cache_cookie.
        self._cache_memo: dict[tuple[str, str], tuple[Principal, float]] = {}
        # Principals by the looked-up row's values (see _principal).
        self._principals: dict[tuple[Any, ...], Principal] = {}
        self._cache_signer = Signer(settings.secrets.secret_key, "session-cache", settings.secrets.secret_key_fallbacks)

    async def create(
        self, db: AsyncSession, user: User, meta: RequestMeta, method: str, persistent: bool
    ) -> tuple[Session, str]:
        """Add a new session row (the caller commits); return it and its secret token."""
        token = new_token()
        now = utcnow()
        row = Session(
            user_id=user.id,
            token_hash=hash_token(token),
            persistent=persistent,
            sign_in_method=method,
            ip_address=meta.ip,
            user_agent=(meta.user_agent or "")[:512] or None,
            authenticated_at=now,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(seconds=self.auth.session_max_age),
            absolute_expires_at=now + timedelta(seconds=self.auth.session_absolute_max_age),
        )
        db.add(row)
        return row, token

    async def resolve(self, token: str) -> tuple[Principal | None, bool]:
        """Look a token up; return the principal and whether the session was just renewed."""
        if not usable_token(token):
            return None, False
        values = await self.reader.values_by_key(self._lookup, hash_token(token))
        if values is None:
            return None, False
        principal = self._principal(values)
        now = utcnow()
        if principal.expires_at <= now or principal.absolute_expires_at <= now:
            async with self.engine.begin() as conn:
                await conn.execute(delete(Session).where(S.id == principal.session_id))
            return None, False
        if now - principal.updated_at < self._update_age:
            return principal, False
        expires = min(now + self._max_age, principal.absolute_expires_at)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(Session).where(S.id == principal.session_id).values(updated_at=now, expires_at=expires)
            )
        return replace(principal, updated_at=now, expires_at=expires), True

    def _principal(self, values: tuple[Any, ...]) -> Principal:
        """The principal of a looked-up row: the same object while the row reads the same.

        The database answers every request (a revoked or expired session fails on the next one);
        what is remembered, by the row's every value, is only what is built from it: the
        principal and what is derived from it (`Principal.memo`, the get-session answer).
        """
        try:
            principal = self._principals.get(values)
        except TypeError:  # a value the driver gives unhashable (a JSON field, say): nothing kept
            return self._build_principal(values)
        if principal is None:
            principal = self._build_principal(values)
            if len(self._principals) >= PRINCIPAL_MEMO_SIZE:
                del self._principals[next(iter(self._principals))]  # the oldest entry
            self._principals[values] = principal
        return principal

    def _build_principal(self, values: tuple[Any, ...]) -> Principal:
        row = self.reader.decode(self._lookup.one, values)
        if self._field_labels:
            fields = (_json_value(row.pop(label)) for label in self._field_labels)
            row["fields"] = tuple(zip(self._field_names, fields, strict=True))
        return Principal(**row)

    async def revoke(self, db: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID | None = None) -> bool:
        """Delete one session (of `user_id` only, when given); True if it existed."""
        query = delete(Session).where(S.id == session_id)
        if user_id is not None:
            query = query.where(S.user_id == user_id)
        result = await db.exec(query)
        return bool(result.rowcount)

    async def revoke_all(self, db: AsyncSession, user_id: uuid.UUID, keep: uuid.UUID | None = None) -> list[uuid.UUID]:
        """Delete every session of a user except `keep`; return the ids that went."""
        query = delete(Session).where(S.user_id == user_id)
        if keep is not None:
            query = query.where(S.id != keep)
        result = await db.exec(query.returning(S.id))
        return [row[0] for row in result.all()]

    async def active(self, db: AsyncSession, user_id: uuid.UUID) -> list[Session]:
        """The unexpired sessions of a user, most recently active first."""
        now = utcnow()
        query = (
            select_models(Session)
            .where(S.user_id == user_id, S.expires_at > now, S.absolute_expires_at > now)
            .order_by(S.updated_at.desc(), S.created_at.desc())
        )
        return list((await db.exec(query)).all())

    async def mark_fresh(self, db: AsyncSession, session_id: uuid.UUID) -> None:
        """Record a re-authentication: sensitive actions are allowed again for a while."""
        await db.exec(update(Session).where(S.id == session_id).values(authenticated_at=utcnow()))

    async def delete_expired(self, db: AsyncSession) -> int:
        """Remove sessions past their expiry (the `app sessions cleanup` command)."""
        now = utcnow()
        result = await db.exec(delete(Session).where((S.expires_at <= now) | (S.absolute_expires_at <= now)))
        return int(result.rowcount or 0)

    def cookie(self, token: str, persistent: bool, expires_at: datetime | None = None) -> Cookie:
        """The session cookie: HttpOnly, SameSite=Lax, Path=/, `__Host-` and Secure in production."""
        max_age = None
        if persistent:
            end = expires_at or utcnow() + timedelta(seconds=self.auth.session_max_age)
            max_age = max(0, int((end - utcnow()).total_seconds()))
        return self.cookies.make("session", token, max_age=max_age)

    def clear_cookies(self) -> list[Cookie]:
        """Expire the session cookie (and its cache) in the browser."""
        return [self.cookies.expired("session"), self.clear_cache_cookie()]

    def clear_cache_cookie(self) -> Cookie:
        """Expire the cache cookie only: the next request reads the session row again (after re-auth)."""
        return self.cookies.expired("session_cache")

    def cache_cookie(self, principal: Principal, token: str) -> Cookie:
        """A signed snapshot of the principal for this token, valid for AUTH_COOKIE_CACHE_MAX_AGE seconds."""
        data = {k: (str(v) if isinstance(v, (uuid.UUID, datetime)) else v) for k, v in asdict(principal).items()}
        data["fields"] = dict(principal.fields)
        # Never past the session's own end: a short session (an impersonation's hour) ends on time.
        now = int(time.time())
        ends = int(min(principal.expires_at, principal.absolute_expires_at).timestamp())
        max_age = max(0, min(self.auth.cookie_cache_max_age, ends - now))
        data["_exp"] = now + max_age
        data["_tok"] = _cache_binding(token)
        value = self._cache_signer.sign(json.dumps(data, separators=(",", ":")).encode().hex())
        return self.cookies.make("session_cache", value, max_age=max_age)

    def read_cache_cookie(self, value: str, token: str) -> Principal | None:
        """The principal from a valid, unexpired cache cookie made for this token, else None.

        The binding to the token makes a cache left over from a previous session (a sign-in as
        someone else, a token rotated by a password change) count for nothing. A cookie read
        once with its token is remembered (verified, decoded, bound) until it expires: its next
        requests cost one dict lookup, not a signature check, the parsing of a dozen fields and
        the binding's hash. The token is part of the key, so it is compared by the dict, never
        character by character against a secret.
        """
        remembered = self._cache_memo.get((value, token))
        if remembered is not None:
            principal, expires = remembered
            return principal if expires >= time.time() else None
        decoded = self._decode_cache_cookie(value)
        if decoded is None:
            return None
        principal, binding, expires = decoded
        if expires < time.time() or binding != _cache_binding(token):
            return None
        if len(self._cache_memo) >= CACHE_MEMO_SIZE:
            del self._cache_memo[next(iter(self._cache_memo))]  # the oldest entry
        self._cache_memo[value, token] = (principal, expires)
        return principal

    def _decode_cache_cookie(self, value: str) -> tuple[Principal, str, float] | None:
        """Verify and decode a cache cookie: the principal, its token binding and its expiry time."""
        payload = self._cache_signer.unsign(value)
        if payload is None:
            return None
        try:
            data: dict[str, Any] = json.loads(bytes.fromhex(payload))
            expires = float(data.pop("_exp"))
            binding = str(data.pop("_tok"))
            for key in ("session_id", "user_id"):
                data[key] = uuid.UUID(data[key])
            for key in (
                "authenticated_at",
                "created_at",
                "updated_at",
                "expires_at",
                "absolute_expires_at",
                "user_created_at",
                "user_updated_at",
            ):
                data[key] = datetime.fromisoformat(data[key])
            # A snapshot made with other session fields (features switched on or off since) is not used.
            fields = data.pop("fields", None)
            if not isinstance(fields, dict) or fields.keys() != set(self._field_names):
                return None
            data["fields"] = tuple((name, fields[name]) for name in self._field_names)
            return Principal(**data), binding, expires
        except (ValueError, KeyError, TypeError):
            return None


def _json_value(value: Any) -> Any:
    """A session field's value as JSON: UUIDs as strings (SessionField)."""
    return str(value) if isinstance(value, uuid.UUID) else value


def _cache_binding(token: str) -> str:
    """Ties a cache cookie to its session token without putting the token (or its stored hash) in it."""
    return hash_token("cache:" + token)[:32]
