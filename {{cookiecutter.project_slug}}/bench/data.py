"""Benchmark data: a scratch database, users, and up to millions of session rows in seconds.

Session tokens are predictable here (`token_for(i)`) so that any row can be looked up later;
the database holds only their SHA-256, exactly as for real sessions. One template session is
written through the app's own table definition and then copied inside the database (a
recursive CTE on SQLite, `generate_series` on PostgreSQL), so the stored format is the app's
and a million rows cost seconds, not a million round trips.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.models import CREDENTIAL_PROVIDER, Account, Session, User
from app.auth.passwords import Passwords
from app.core.db import create_engine, utcnow
from app.migrations import alembic_config
from app.settings import AuthSettings, DatabaseSettings

BENCH_PASSWORD = "correct horse battery staple 42"  # noqa: S105 - the benchmark users' password
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SESSION_COLUMNS = (
    "persistent, sign_in_method, ip_address, user_agent, authenticated_at, created_at, updated_at, "
    "expires_at, absolute_expires_at"
)
_SQLITE_COPY = f"""
WITH RECURSIVE seq(i) AS (SELECT :start UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :stop)
INSERT INTO session (id, user_id, token_hash, {SESSION_COLUMNS})
SELECT lower(hex(randomblob(16))), u.id, bench_token_hash(seq.i), {SESSION_COLUMNS.replace(", ", ", t.")}
FROM seq
JOIN bench_user AS u ON u.n = seq.i % :users
CROSS JOIN (SELECT {SESSION_COLUMNS} FROM session WHERE token_hash = :template) AS t
"""  # noqa: S608 - column names are constants
_POSTGRES_COPY = f"""
INSERT INTO session (id, user_id, token_hash, {SESSION_COLUMNS})
SELECT gen_random_uuid(), u.ids[1 + seq.i % cardinality(u.ids)],
       encode(sha256(convert_to('bench-session-' || lpad(seq.i::text, 10, '0'), 'UTF8')), 'hex'),
       {SESSION_COLUMNS.replace(", ", ", t.")}
FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint) - 1) AS seq(i)
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM "user") AS u
CROSS JOIN (SELECT {SESSION_COLUMNS} FROM session WHERE token_hash = :template) AS t
"""  # noqa: S608 - column names are constants


def token_for(i: int) -> str:
    """The session token of row `i` (the SQL above derives the same strings)."""
    return f"bench-session-{i:010d}"


def token_hash(i: int) -> str:
    return hashlib.sha256(token_for(i).encode()).hexdigest()


def email_for(n: int) -> str:
    return f"bench-user-{n:05d}@example.com"


def migrate(url: str) -> None:
    """Apply every migration (Alembic runs its own event loop: call this outside one)."""
    command.upgrade(alembic_config(url), "heads")


@asynccontextmanager
async def scratch_database(kind: str, postgres_url: str | None = None) -> AsyncIterator[str]:
    """A migrated, empty database of its own (a temporary SQLite file, or a PostgreSQL database
    created on the server of `postgres_url` and dropped afterwards); yields its URL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await asyncio.to_thread(migrate, url)
            yield url
        return
    base = postgres_url or os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES
    admin = base.replace("postgresql+asyncpg://", "postgresql://")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        url = base.rsplit("/", 1)[0] + f"/{name}"
        await asyncio.to_thread(migrate, url)
        yield url
    finally:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


class Dataset:
    """Users (each with a password account) and a growing number of sessions in one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(DatabaseSettings(url=url, pool_size=10))
        self.users = 0
        self.sessions = 0
        self.user_ids: list[uuid.UUID] = []

    async def close(self) -> None:
        await self.engine.dispose()

    async def add_users(self, count: int, created_over: timedelta = timedelta(0)) -> None:
        """`count` verified users sharing one real Argon2id hash of BENCH_PASSWORD, created one after
        another over the `created_over` before now (all at once by default)."""
        password_hash = Passwords(AuthSettings()).hasher.hash(BENCH_PASSWORD)
        now = utcnow()
        users: list[dict[str, Any]] = [
            {
                "id": uuid.uuid4(),
                "name": f"Bench User {n}",
                "email": email_for(n),
                "email_verified": True,
                "image": None,
                "role": "user",
                "created_at": now - created_over * (1 - n / count),
                "updated_at": now,
            }
            for n in range(count)
        ]
        accounts = [
            {
                "id": uuid.uuid4(),
                "user_id": user["id"],
                "provider_id": CREDENTIAL_PROVIDER,
                "account_id": str(user["id"]),
                "password_hash": password_hash,
                "created_at": now,
                "updated_at": now,
            }
            for user in users
        ]
        async with self.engine.begin() as conn:
            await conn.execute(insert(User.__table__), users)  # type: ignore[attr-defined]
            await conn.execute(insert(Account.__table__), accounts)  # type: ignore[attr-defined]
        self.users = count
        self.user_ids = [user["id"] for user in users]

    async def grow_sessions(self, total: int) -> None:
        """Add sessions until there are `total`; every one is valid and needs no renewal."""
        if total <= self.sessions:
            return
        async with self.engine.begin() as conn:
            if self.sessions == 0:
                await conn.execute(insert(Session.__table__), [self._template_row()])  # type: ignore[attr-defined]
                self.sessions = 1
            params = {"start": self.sessions, "stop": total, "users": self.users, "template": token_hash(0)}
            if self.engine.dialect.name == "sqlite":
                raw = await conn.get_raw_connection()
                await raw.driver_connection.create_function(  # type: ignore[union-attr]
                    "bench_token_hash", 1, token_hash, deterministic=True
                )
                # Random keys go into four indexes: a big page cache keeps them from thrashing.
                await conn.execute(text("PRAGMA cache_size = -524288"))
                await conn.execute(text("DROP TABLE IF EXISTS temp.bench_user"))
                await conn.execute(text("CREATE TEMP TABLE bench_user (n INTEGER PRIMARY KEY, id)"))
                await conn.execute(
                    text("INSERT INTO bench_user SELECT row_number() OVER (ORDER BY rowid) - 1, id FROM user")
                )
                await conn.execute(text(_SQLITE_COPY), params)
            else:
                await conn.execute(text(_POSTGRES_COPY), params)
        async with self.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
        self.sessions = total

    def _template_row(self) -> dict[str, Any]:
        now = utcnow()
        return {
            "id": uuid.uuid4(),
            "user_id": self.user_ids[0],
            "token_hash": token_hash(0),
            "persistent": True,
            "sign_in_method": "password",
            "ip_address": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
            "authenticated_at": now,
            "created_at": now,
            "updated_at": now,
            "expires_at": now + timedelta(days=6),
            "absolute_expires_at": now + timedelta(days=29),
        }

    def sample_tokens(self, count: int, seed: int = 7) -> list[str]:
        """Tokens of `count` sessions spread over the whole table (fixed seed: same rows each run)."""
        rng = random.Random(seed)  # noqa: S311 - picking rows, not making secrets
        picks = rng.sample(range(self.sessions), min(count, self.sessions))
        return [token_for(i) for i in picks]
