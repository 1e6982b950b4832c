"""The hot path's direct reader: the session lookup on the driver itself, SQLite or PostgreSQL (--db)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from sqlalchemy import String, Uuid, bindparam, column, select, table, text, update
from sqlalchemy.dialects import sqlite
from sqlmodel import select as select_models

from app.auth.models import CREDENTIAL_PROVIDER, Account, Session, User
from app.auth.sessions import _LOOKUP
from app.core.crypto import hash_token
from app.core.db import AsyncpgReader, Database, DirectReader, KeyedLookup, SQLiteReader, UTCDateTime, utcnow
from app.settings import DatabaseSettings
from tests.conftest import Client, signed_in


def token_of(client: Client) -> str:
    token: str = client.cookies["session"]
    return token


async def test_the_reader_talks_to_the_configured_driver(app: Litestar) -> None:
    reader = app.state.db.reader
    expected = SQLiteReader if app.state.db.engine.dialect.name == "sqlite" else AsyncpgReader
    assert type(reader) is expected
    assert app.state.auth.sessions.reader is reader  # the session lookup uses it


async def test_a_direct_lookup_gives_what_sqlalchemy_gives(client: Client, app: Litestar) -> None:
    await signed_in(client)
    params = {"token_hash": hash_token(token_of(client))}
    direct = await app.state.db.reader.first(_LOOKUP.one, params)
    through_sqlalchemy = await DirectReader(app.state.db.engine).first(_LOOKUP.one, params)
    assert direct is not None and direct == through_sqlalchemy
    assert isinstance(direct["session_id"], uuid.UUID) and isinstance(direct["user_id"], uuid.UUID)
    assert direct["expires_at"].tzinfo is not None and direct["expires_at"].utcoffset() == timedelta(0)
    assert direct["persistent"] is True and direct["email_verified"] in (True, False)
    assert await app.state.db.reader.first(_LOOKUP.one, {"token_hash": hash_token("no such token")}) is None


async def test_a_keyed_lookup_reads_what_its_single_statement_reads(client: Client, app: Litestar) -> None:
    await signed_in(client)
    key = hash_token(token_of(client))
    reader = app.state.db.reader
    expected = await reader.first(_LOOKUP.one, {"token_hash": key})
    assert expected is not None
    assert await reader.row_by_key(_LOOKUP, key) == expected
    assert await reader.values_by_key(_LOOKUP, key) == await reader.first_values(_LOOKUP.one, {"token_hash": key})
    assert await reader.row_by_key(_LOOKUP, hash_token("no such token")) is None
    with pytest.raises(TypeError, match="text key column"):
        KeyedLookup(select(Session.__table__.c.id), Session.__table__.c.id, "id")  # type: ignore[attr-defined]


async def test_a_locked_sqlite_read_waits_off_the_event_loop_and_reads_the_same(tmp_path: Path) -> None:
    """Whatever the suite's database: while another process holds SQLite's lock, a lookup waits on
    the reader's thread (the loop's own attempt gives up at once) and the loop keeps serving; it
    is this loop that releases the lock, so a read that blocked it would fail with "database is
    locked"."""
    path = tmp_path / "locked.db"
    database = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}", pool_timeout=60))
    try:
        async with database.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE item (id CHAR(32) PRIMARY KEY, stamp DATETIME, name TEXT)"))
            await conn.execute(
                text("INSERT INTO item VALUES ('0f0e0d0c0b0a09080706050403020100', '2026-11-22 18:05:09.5', 'one')")
            )
        item = table("item", column("id", Uuid()), column("stamp", UTCDateTime()), column("name", String()))
        by_name = select(item.c.id, item.c.stamp).where(item.c.name == bindparam("name"))
        by_key = KeyedLookup(select(item.c.id, item.c.stamp), item.c.name, "name")
        reader = database.reader
        assert isinstance(reader, SQLiteReader)
        direct = {
            "id": uuid.UUID("0f0e0d0c0b0a09080706050403020100"),
            "stamp": datetime(2026, 11, 22, 18, 5, 9, 500000, tzinfo=UTC),
        }
        await database.engine.dispose()  # no connection open: the writer below can lock the file

        writer = sqlite3.connect(path, isolation_level=None)  # another process, holding the lock
        writer.execute("PRAGMA locking_mode=EXCLUSIVE")
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE item SET name = 'one' WHERE name = 'one'")
        writer.execute("COMMIT")  # the exclusive lock stays until the connection closes
        try:
            probe = sqlite3.connect(path, timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("SELECT 1 FROM item").fetchall()  # locked indeed
            probe.close()
            ran_on: set[int] = set()  # the threads that ran the reader's SQL
            await reader._call(lambda c: c.set_trace_callback(lambda _: ran_on.add(threading.get_ident())))
            reads = [
                asyncio.create_task(reader.first(by_name, {"name": "one"})),
                asyncio.create_task(reader.first(by_name, {"name": "none"})),
                asyncio.create_task(reader.row_by_key(by_key, "one")),
            ]
            turns = 0
            for _ in range(20):  # the loop runs while the reads wait on the reader's thread
                await asyncio.sleep(0.01)
                turns += 1
            assert turns == 20 and not any(read.done() for read in reads)
        finally:
            writer.close()  # from the event loop: the lock goes, the reads finish
        assert await asyncio.gather(*reads) == [direct, None, direct]
        assert await reader.first(by_name, {"name": "one"}) == direct
        assert ran_on and threading.get_ident() not in ran_on  # the waiting reads: on the reader's thread
    finally:
        await database.dispose()


async def test_values_fixed_in_the_statement_are_sent_with_the_parameters(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    statement = (
        select(User.__table__.c.email, Account.__table__.c.provider_id)  # type: ignore[attr-defined]
        .join_from(User, Account, Account.__table__.c.user_id == User.__table__.c.id)  # type: ignore[attr-defined]
        .where(Account.__table__.c.provider_id == CREDENTIAL_PROVIDER)  # type: ignore[attr-defined]
        .where(User.__table__.c.email == bindparam("email"))  # type: ignore[attr-defined]
    )
    row = await app.state.db.reader.first(statement, {"email": email})
    assert row == {"email": email, "provider_id": CREDENTIAL_PROVIDER}
    with pytest.raises(KeyError):
        await app.state.db.reader.first(statement, {})  # a missing parameter is an error, never a NULL


async def test_revocation_and_expiry_count_on_the_very_next_request(client: Client, app: Litestar) -> None:
    await signed_in(client)
    assert (await client.get("/api/auth/get-session")).json() is not None
    async with app.state.db.sessions() as db:  # expired, written through SQLAlchemy
        await db.exec(update(Session).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    assert (await client.get("/api/auth/get-session")).json() is None
    async with app.state.db.sessions() as db:
        assert (await db.exec(select_models(Session))).all() == []  # the expired row went

    await signed_in(client)
    assert (await client.get("/api/auth/get-session")).json() is not None
    async with app.state.db.sessions() as db:  # revoked elsewhere (another instance, the CLI)
        row = (await db.exec(select_models(Session))).one()
        await db.delete(row)
        await db.commit()
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_renewal_is_written_and_read_back(client: Client, app: Litestar) -> None:
    await signed_in(client)
    old = datetime.now(UTC) - timedelta(days=2)
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(updated_at=old))
        await db.commit()
    renewed = await client.get("/api/auth/get-session")
    assert renewed.json()["session"]["updatedAt"] > old.isoformat()
    row = await app.state.db.reader.first(_LOOKUP.one, {"token_hash": hash_token(token_of(client))})
    assert row is not None and row["updated_at"] > old + timedelta(days=1)


async def test_the_sqlite_connection_only_reads(tmp_path: Path) -> None:
    """Whatever the suite's database: a SQLite file of its own, written by SQLAlchemy, read directly."""
    settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    database = Database(settings)
    try:
        async with database.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
            await conn.execute(text("INSERT INTO item (name) VALUES ('first')"))
        reader = database.reader
        assert isinstance(reader, SQLiteReader)
        item = table("item", column("id"), column("name"))
        by_name = select(item.c.id).where(item.c.name == bindparam("name"))
        assert await reader.first(by_name, {"name": "first"}) == {"id": 1}
        assert reader._thread is None  # nothing locked: read on the loop at once, no hop to a thread
        async with database.engine.begin() as conn:  # a later commit is seen at once
            await conn.execute(text("INSERT INTO item (name) VALUES ('second')"))
        assert await reader.first(by_name, {"name": "second"}) == {"id": 2}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader._call(lambda connection: connection.execute("DELETE FROM item"))
        assert reader._now is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._now.execute("DELETE FROM item")
    finally:
        await database.dispose()


async def test_the_reader_is_released_with_the_app(app: Litestar, client: Client) -> None:
    await signed_in(client)
    await client.get("/api/auth/get-session")
    reader = app.state.db.reader
    await app.state.db.dispose()
    assert getattr(reader, "_conn", None) is None and getattr(reader, "_now", None) is None
    assert not getattr(reader, "_idle", None)
    assert getattr(reader, "_open", 0) == 0 and not getattr(reader, "_leases", None)
    assert getattr(reader, "_thread", None) is None


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("2026-11-22 18:05:09.123456", datetime(2026, 11, 22, 18, 5, 9, 123456, tzinfo=UTC)),  # as SQLAlchemy writes
        ("2026-11-22 18:05:09", datetime(2026, 11, 22, 18, 5, 9, tzinfo=UTC)),  # as SQLite's CURRENT_TIMESTAMP
        ("2026-11-22T19:05:09+01:00", datetime(2026, 11, 22, 18, 5, 9, tzinfo=UTC)),  # with an offset
        (None, None),
    ],
)
def test_sqlite_timestamps_are_read_as_utc(stored: str | None, read: datetime | None) -> None:
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert process is not None
    value = process(stored)
    assert value == read and (value is None or value.utcoffset() == timedelta(0))
