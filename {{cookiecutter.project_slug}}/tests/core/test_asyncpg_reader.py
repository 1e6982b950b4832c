"""The asyncpg reader's connections (collected with --db=postgresql only, see conftest).

They are the engine pool's: the process has one pool. It keeps at most `pool_size` of them;
callers beyond that wait for one; a connection that raised, or that the server closed, is never
handed out again (it goes back to the pool as invalid). Keyed lookups made in the same
turn of the event loop share one query, and each caller gets its own row (or the error).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import String, bindparam, column, select, table, text

from app.auth.sessions import _LOOKUP
from app.core.crypto import hash_token
from app.core.db import AsyncpgReader, KeyedLookup
from tests.conftest import Client, signed_in


async def _lookup_params(client: Client) -> dict[str, str]:
    await signed_in(client)
    return {"token_hash": hash_token(client.cookies["session"])}


async def test_more_callers_than_connections_all_get_their_row(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=2)
    try:
        expected = await app.state.db.reader.first(_LOOKUP.one, params)
        rows = await asyncio.gather(*(reader.first(_LOOKUP.one, params) for _ in range(25)))
        assert expected is not None and rows == [expected] * 25
        assert reader._open == 2 and len(reader._idle) == 2 and not reader._waiters
    finally:
        await reader.close()
    assert reader._open == 0 and reader._idle == []


async def test_the_connections_are_the_engine_pools_and_go_back_to_it(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    pool = app.state.db.engine.sync_engine.pool
    before = pool.checkedout()
    reader = AsyncpgReader(app.state.db.engine, pool_size=2)
    try:
        await asyncio.gather(*(reader.first(_LOOKUP.one, params) for _ in range(25)))
        assert pool.checkedout() == before + 2  # held by the reader, counted by the pool
        pids = {c.get_server_pid() for c in reader._idle}
        async with app.state.db.engine.connect() as conn:  # the ORM's connection is another one
            raw = await conn.get_raw_connection()
            assert raw.driver_connection.get_server_pid() not in pids
        missing = select(table("no_such_table", column("id")).c.id).where(column("id") == bindparam("id"))
        with pytest.raises(Exception, match="no_such_table"):
            await reader.first(missing, {"id": 1})
        assert pool.checkedout() == before + 1  # the connection that raised went back, invalidated
    finally:
        await reader.close()
    assert pool.checkedout() == before  # the idle ones went back at close


async def test_a_connection_that_raised_or_that_the_server_closed_is_replaced(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=1)
    try:
        expected = await reader.first(_LOOKUP.one, params)
        missing = select(table("no_such_table", column("id")).c.id).where(column("id") == bindparam("id"))
        with pytest.raises(Exception, match="no_such_table"):
            await reader.first(missing, {"id": 1})
        assert reader._open == 0  # dropped, not put back
        assert await reader.first(_LOOKUP.one, params) == expected

        (connection,) = reader._idle
        async with app.state.db.engine.connect() as conn:  # the server ends it (a restart, an admin)
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.get_server_pid()})
        for _ in range(100):  # the event loop notices the closed socket
            if connection.is_closed():
                break
            await asyncio.sleep(0.01)
        assert connection.is_closed()
        assert await reader.first(_LOOKUP.one, params) == expected  # on a new connection
        assert reader._open == 1 and reader._idle[0] is not connection
    finally:
        await reader.close()


async def test_a_caller_cancelled_while_waiting_passes_the_connection_on(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=1)
    try:
        expected = await reader.first(_LOOKUP.one, params)
        held, _ = await reader._take()  # the only connection, busy
        first = asyncio.create_task(reader.first(_LOOKUP.one, params))
        second = asyncio.create_task(reader.first(_LOOKUP.one, params))
        await asyncio.sleep(0)  # one turn of the loop: both tasks run until they wait for a connection
        assert len(reader._waiters) == 2
        reader._hand(held)  # handed to the first waiter ...
        first.cancel()  # ... which goes before it runs: the connection must reach the second
        assert await asyncio.wait_for(second, timeout=5) == expected
        with pytest.raises(asyncio.CancelledError):
            await first
        assert reader._open == 1 and len(reader._idle) == 1 and not reader._waiters
    finally:
        await reader.close()


class CountingReader(AsyncpgReader):
    """The reader, recording the keys of every query it sends for keyed lookups."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[list[str]] = []

    async def _fetch_keyed(self, lookup: KeyedLookup, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        self.sent.append(sorted(keys))
        return await super()._fetch_keyed(lookup, keys)


async def test_lookups_made_together_share_one_query_and_each_gets_its_row(client: Client, app: Litestar) -> None:
    keys = []
    for _ in range(3):  # three users' sessions
        keys.append((await _lookup_params(client))["token_hash"])
        client.cookies.clear()
    missing = hash_token("no such token")
    reader = CountingReader(app.state.db.engine, pool_size=2)
    try:
        expected = [await app.state.db.reader.first_values(_LOOKUP.one, {"token_hash": key}) for key in keys]
        assert all(values is not None for values in expected) and len(set(expected)) == 3
        asked = [keys[0], keys[1], missing, keys[2], keys[0]]
        got = await asyncio.gather(*(reader.values_by_key(_LOOKUP, key) for key in asked))
        assert got == [expected[0], expected[1], None, expected[2], expected[0]]
        assert reader.sent == [sorted({*keys, missing})]  # one query, each key once
        assert await reader.row_by_key(_LOOKUP, keys[1]) == reader.decode(_LOOKUP.one, expected[1])
        assert reader.sent[1:] == [[keys[1]]]  # alone: the single statement
        await asyncio.sleep(0)  # the finished task's done callback runs
        assert not reader._batches and not reader._answering and len(reader._idle) == reader._open
    finally:
        await reader.close()


async def test_a_batch_that_fails_fails_each_of_its_callers_and_the_next_one_works(
    client: Client, app: Litestar
) -> None:
    params = await _lookup_params(client)
    missing = table("no_such_table", column("key", String()))
    broken = KeyedLookup(select(missing.c.key), missing.c.key, "key")
    reader = AsyncpgReader(app.state.db.engine, pool_size=1)
    try:
        results = await asyncio.gather(
            reader.values_by_key(broken, "a"), reader.values_by_key(broken, "b"), return_exceptions=True
        )
        assert len(results) == 2 and all("no_such_table" in str(result) for result in results)
        assert reader._open == 0  # the connection that raised is dropped
        assert await reader.row_by_key(_LOOKUP, params["token_hash"]) == await reader.first(_LOOKUP.one, params)
    finally:
        await reader.close()


async def test_a_caller_that_goes_leaves_the_others_of_its_batch_their_rows(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=1)
    try:
        expected = await reader.first_values(_LOOKUP.one, params)
        leaving = asyncio.create_task(reader.values_by_key(_LOOKUP, params["token_hash"]))
        staying = asyncio.create_task(reader.values_by_key(_LOOKUP, params["token_hash"]))
        await asyncio.sleep(0)  # both have joined the batch, which is not sent yet
        assert len(reader._batches[_LOOKUP][params["token_hash"]]) == 2
        leaving.cancel()
        assert await asyncio.wait_for(staying, timeout=5) == expected
        with pytest.raises(asyncio.CancelledError):
            await leaving
        assert reader._open == 1 and len(reader._idle) == 1
    finally:
        await reader.close()


async def test_closing_the_reader_leaves_no_caller_of_an_unsent_batch_waiting(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=1)
    waiting = asyncio.create_task(reader.values_by_key(_LOOKUP, params["token_hash"]))
    await asyncio.sleep(0)  # it has joined a batch whose task has not started
    assert reader._batches and reader._answering
    await reader.close()  # the app stops
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, timeout=5)
    assert not reader._batches and reader._open == 0
