"""The asyncpg reader's own connections (collected with --db=postgresql only, see conftest).

It keeps at most `pool_size` connections; callers beyond that wait for one; a connection that
raised, or that the server closed, is never handed out again.
"""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from sqlalchemy import bindparam, column, select, table, text

from app.auth.sessions import _LOOKUP
from app.core.crypto import hash_token
from app.core.db import AsyncpgReader
from tests.conftest import Client, signed_in


async def _lookup_params(client: Client) -> dict[str, str]:
    await signed_in(client)
    return {"token_hash": hash_token(client.cookies["session"])}


async def test_more_callers_than_connections_all_get_their_row(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=2)
    try:
        expected = await app.state.db.reader.first(_LOOKUP, params)
        rows = await asyncio.gather(*(reader.first(_LOOKUP, params) for _ in range(25)))
        assert expected is not None and rows == [expected] * 25
        assert reader._open == 2 and len(reader._idle) == 2 and not reader._waiters
    finally:
        await reader.close()
    assert reader._open == 0 and reader._idle == []


async def test_a_connection_that_raised_or_that_the_server_closed_is_replaced(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=1)
    try:
        expected = await reader.first(_LOOKUP, params)
        missing = select(table("no_such_table", column("id")).c.id).where(column("id") == bindparam("id"))
        with pytest.raises(Exception, match="no_such_table"):
            await reader.first(missing, {"id": 1})
        assert reader._open == 0  # dropped, not put back
        assert await reader.first(_LOOKUP, params) == expected

        (connection,) = reader._idle
        async with app.state.db.engine.connect() as conn:  # the server ends it (a restart, an admin)
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.get_server_pid()})
        for _ in range(100):  # the event loop notices the closed socket
            if connection.is_closed():
                break
            await asyncio.sleep(0.01)
        assert connection.is_closed()
        assert await reader.first(_LOOKUP, params) == expected  # on a new connection
        assert reader._open == 1 and reader._idle[0] is not connection
    finally:
        await reader.close()


async def test_a_caller_cancelled_while_waiting_passes_the_connection_on(client: Client, app: Litestar) -> None:
    params = await _lookup_params(client)
    reader = AsyncpgReader(app.state.db.engine, pool_size=1)
    try:
        expected = await reader.first(_LOOKUP, params)
        held = await reader._take()  # the only connection, busy
        first = asyncio.create_task(reader.first(_LOOKUP, params))
        second = asyncio.create_task(reader.first(_LOOKUP, params))
        await asyncio.sleep(0.01)
        assert len(reader._waiters) == 2
        reader._hand(held)  # handed to the first waiter ...
        first.cancel()  # ... which goes before it runs: the connection must reach the second
        assert await asyncio.wait_for(second, timeout=5) == expected
        with pytest.raises(asyncio.CancelledError):
            await first
        assert reader._open == 1 and len(reader._idle) == 1 and not reader._waiters
    finally:
        await reader.close()
