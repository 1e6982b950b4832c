"""API key rules: create, list, revoke, and check a key presented by a request. No HTTP objects here.

Creating and revoking need the signed-in session of the owner, and a fresh one. Checking a key
is one indexed SELECT (the key's hash, joined to its user) on every request, with nothing
cached, so a revoked key, an expired one, or one whose user was deleted fails on the very next
request; `last_used_at` is written at most once a minute per key, the writes of requests that
come together in one transaction (`LastUsed`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from litestar.stores.base import Store
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, Caller, Principal, User, banned_at, iso
from app.core.crypto import hash_token
from app.core.db import DirectReader, KeyedLookup, utcnow
from app.core.errors import AppError, InvalidInput, TooManyAttempts
from app.core.events import RequestMeta
from app.core.names import one_line_name
from app.core.ratelimit import Budget
from app.features.api_keys.keys import KEY_PREFIX, START_LENGTH, looks_like_key, new_key
from app.features.api_keys.models import ApiKey
from app.features.api_keys.scopes import SCOPES
from app.features.api_keys.settings import ApiKeySettings

CREATED = "api_key.created"
REVOKED = "api_key.revoked"
USE_DENIED = "api_key.use_denied"
VIA = "api-key"
NAME_MAX = 100
EXPIRES_IN_MIN = 86400  # seconds, as Better Auth's expiresIn: 1 day ...
EXPIRES_IN_MAX = 365 * 86400  # ... to 1 year
LAST_USED_RESOLUTION = timedelta(minutes=1)

K = ApiKey.__table__.c  # type: ignore[attr-defined]
U = User.__table__.c  # type: ignore[attr-defined]
_LOOKUP = sa.select(
    K.id, K.user_id, K.scopes, K.expires_at, K.revoked_at, K.last_used_at, U.email, U.name, U.banned, U.ban_expires
)
_LOOKUP = _LOOKUP.join_from(ApiKey, User, K.user_id == U.id)
# Every request with a key runs this: through the app's direct reader (compiled once, no ORM round trips;
# the lookups of requests that arrive together share one trip to the database).
_LOOKUP_BY_HASH = KeyedLookup(_LOOKUP, K.key_hash, "key_hash")


_TOUCH = sa.update(ApiKey).where(K.id == sa.bindparam("key_id")).values(last_used_at=sa.bindparam("used_at"))


class LastUsed:
    """Writes keys' `last_used_at`: one transaction at a time per process, carrying every key
    whose request is waiting for it.

    Many keys fall due together (a minute after a burst, or on the first requests after a
    deploy). Written one transaction per request, they contended for SQLite's single writer,
    and a writer that finds the database locked sleeps in steps of up to 100 ms: 1 % of API key
    requests took 50-80 ms under load (the template's docs/performance.md). Here a request adds
    its key to the pending ones and waits for the lock; whoever holds it writes all that are
    pending, so the requests behind it usually find their key written already.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: dict[uuid.UUID, datetime] = {}
        self._lock = asyncio.Lock()

    async def touch(self, key_id: uuid.UUID, when: datetime) -> None:
        """Record that the key was used at `when`; returns once that is written."""
        self._pending[key_id] = when
        async with self._lock:
            if key_id not in self._pending:  # the transaction before this one carried it
                return
            due, self._pending = self._pending, {}
            async with self.engine.begin() as conn:
                await conn.execute(_TOUCH, [{"key_id": key, "used_at": used} for key, used in due.items()])


class InvalidApiKey(AppError):
    code = "INVALID_API_KEY"
    status_code = 401
    default_message = "This API key is not valid: it may have been revoked or have expired."


class ApiKeyNotFound(AppError):
    code = "KEY_NOT_FOUND"
    status_code = 404
    default_message = "API key not found."


class ApiKeys:
    """The feature's rules; one instance per app (built by the feature's setup; see web.service_for)."""

    def __init__(
        self,
        auth: AuthKit,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        store: Store,
        reader: DirectReader | None = None,
        *,
        settings: ApiKeySettings,
    ) -> None:
        self.auth = auth
        self.engine = engine
        self.reader = reader or DirectReader(engine)
        self.sessions = sessions
        self.settings = settings
        self.requests = Budget(store, "api-key", self.settings.rate_limit, 60)
        self.last_used = LastUsed(engine)
        # At most one audit entry per key, reason and minute: a flood of refused requests stays cheap.
        self.denials = Budget(store, "api-key-denied", 1, 60)

    # --- management (the owner's session) ------------------------------------------------

    @staticmethod
    def clean_name(raw: str) -> str:
        """A key's name: one visible line of 1..100 characters (app.core.names)."""
        name = one_line_name(raw, NAME_MAX)
        if name is None:
            raise InvalidInput(f"Enter a name for the key (at most {NAME_MAX} characters).", field="name")
        return name

    @staticmethod
    def clean_scopes(raw: Sequence[str]) -> list[str]:
        """Known scopes only, each once, in a stable order."""
        unknown = sorted(set(raw) - SCOPES.keys())
        if unknown:
            raise InvalidInput(f"Unknown scope: {', '.join(unknown)[:200]}.", field="scopes")
        return sorted(set(raw))

    async def create(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        owner: Principal,
        name: str,
        scopes: Sequence[str],
        expires_in: int | None,
    ) -> tuple[ApiKey, str]:
        """Store a new key's hash for the signed-in owner; return the row and the key, shown only now."""
        self.auth.require_fresh(owner)
        name = self.clean_name(name)
        chosen = self.clean_scopes(scopes)
        if expires_in is not None and not EXPIRES_IN_MIN <= expires_in <= EXPIRES_IN_MAX:
            raise InvalidInput("A key expires between 1 and 365 days from now, or never.", field="expiresIn")
        if await self._count_usable(db, owner.user_id) >= self.settings.max_per_user:
            raise InvalidInput(
                f"You can have at most {self.settings.max_per_user} API keys. Revoke one you no longer use."
            )
        key = new_key()
        now = utcnow()
        row = ApiKey(
            user_id=owner.user_id,
            name=name,
            prefix=KEY_PREFIX,
            start=key[:START_LENGTH],
            key_hash=hash_token(key),
            scopes=chosen,
            created_at=now,
            expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        )
        db.add(row)
        expires = iso(row.expires_at) if row.expires_at else None
        await self.auth.record(
            db,
            CREATED,
            meta,
            actor=owner.user_id,
            target_type="api_key",
            target_id=row.id,
            key_name=name,
            scopes=chosen,
            expires_at=expires,
        )
        await db.commit()
        return row, key

    async def _count_usable(self, db: AsyncSession, user_id: uuid.UUID) -> int:
        now = utcnow()
        query = (
            select(func.count())
            .select_from(ApiKey)
            .where(K.user_id == user_id, K.revoked_at.is_(None), (K.expires_at.is_(None)) | (K.expires_at > now))
        )
        return int((await db.exec(query)).one())

    async def owned(self, db: AsyncSession, user_id: uuid.UUID) -> list[ApiKey]:
        """The user's keys that are not revoked (expired ones included), newest first."""
        query = (
            select(ApiKey)
            .where(col(ApiKey.user_id) == user_id, col(ApiKey.revoked_at).is_(None))
            .order_by(col(ApiKey.created_at).desc())
        )
        return list((await db.exec(query)).all())

    async def get(self, db: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
        """One of the user's keys that is not revoked; KEY_NOT_FOUND for anyone else's."""
        row = await db.get(ApiKey, key_id)
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            raise ApiKeyNotFound()
        return row

    async def revoke(self, db: AsyncSession, meta: RequestMeta, owner: Principal, key_id: uuid.UUID) -> ApiKey:
        """Revoke one of the owner's keys: the next request made with it is refused."""
        self.auth.require_fresh(owner)
        row = await self.get(db, owner.user_id, key_id)
        row.revoked_at = utcnow()
        db.add(row)
        await self.auth.record(
            db, REVOKED, meta, actor=owner.user_id, target_type="api_key", target_id=row.id, key_name=row.name
        )
        await db.commit()
        return row

    # --- use (every request that carries a key) -------------------------------------------

    async def verify(self, key: str, meta: Callable[[], RequestMeta]) -> Caller:
        """The caller for a presented key, or InvalidApiKey (401) / TooManyAttempts (429)."""
        if not looks_like_key(key):
            raise InvalidApiKey()
        row = await self.reader.row_by_key(_LOOKUP_BY_HASH, hash_token(key))
        if row is None:  # never issued, or its user was deleted (the key went with them)
            raise InvalidApiKey()
        now = utcnow()
        if row["revoked_at"] is not None or (row["expires_at"] is not None and row["expires_at"] <= now):
            await self.deny(row["id"], row["user_id"], "revoked" if row["revoked_at"] else "expired", meta)
            raise InvalidApiKey()
        if banned_at(row["banned"], row["ban_expires"], now):
            await self.deny(row["id"], row["user_id"], "banned", meta)
            raise InvalidApiKey()
        wait = await self.requests.spend(str(row["id"]))
        if wait:
            await self.deny(row["id"], row["user_id"], "rate_limited", meta)
            raise TooManyAttempts(wait, "This API key made too many requests. Wait a minute.")
        if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_RESOLUTION:
            await self.last_used.touch(row["id"], now)
        scopes = frozenset(row["scopes"]) & SCOPES.keys()
        return Caller(row["user_id"], row["email"], row["name"], VIA, row["id"], scopes)

    async def deny(self, key_id: uuid.UUID, user_id: uuid.UUID, reason: str, meta: Callable[[], RequestMeta]) -> None:
        """Audit a refused use of a key: at most one entry per key, reason and minute."""
        if await self.denials.spend(f"{key_id}:{reason}"):
            return
        async with self.sessions() as session:
            await self.auth.record(
                session, USE_DENIED, meta(), actor=user_id, target_type="api_key", target_id=key_id, reason=reason
            )
            await session.commit()
