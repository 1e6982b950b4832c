"""The database engine, the per-request session, and the column types every model uses.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every connection,
and one connection per process for SQLAlchemy's sessions: SQLite has one writer at a time,
and a transaction that read before it wrote fails at once ("database is locked") when another
committed in between, whatever the busy timeout. So sessions take turns at that connection
(an asyncio wait, DATABASE_POOL_TIMEOUT at most) and each transaction starts with BEGIN
IMMEDIATE, taking the write lock before its first read: another process (the CLI, a second
server) then waits for it rather than failing half-way. Reads of the hot path do not take a
turn (the direct reader below). PostgreSQL is reached through asyncpg, with one pool per process
(DATABASE_POOL_SIZE, and as many again under a burst). Timestamps are always timezone-aware UTC.

`DirectReader` runs a few compiled Core SELECTs of the hot path (the session lookup) on the
driver itself: SQLAlchemy's async layers cost far more than such a query (on SQLite ~0.8 ms of
thread hops around an 11 µs query; on PostgreSQL a pre-ping and BEGIN/ROLLBACK round trips).
On SQLite it reads on a thread of its own, so that a locked database never holds up the event
loop; on PostgreSQL it uses a few connections of the engine's pool. Lookups by a unique key
(`KeyedLookup`) that arrive together are answered together: on PostgreSQL as one query, on
SQLite in one hop to the thread. Everything else, writes included, goes through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import ARRAY, ColumnElement, DateTime, Select, String, any_, bindparam, event
from sqlalchemy.engine import Connection, Dialect, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession

from app.settings import DatabaseSettings

_T = TypeVar("_T")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives aware UTC datetimes back (SQLite drops tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use app.core.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None] | None:
        """On SQLite, the stored text is parsed as UTC in one step: six times cheaper than parsing it
        as a naive datetime and then setting its zone (every session lookup reads seven timestamps)."""
        composed = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or composed is None:
            return composed

        def process(value: Any) -> datetime | None:
            if isinstance(value, str):
                try:
                    return datetime.fromisoformat(value + "+00:00")
                except ValueError:  # not the text SQLAlchemy writes (an offset already, say)
                    pass
            return composed(value)

        return process


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.isolation_level = None  # no BEGIN of the driver's: _begin_immediate sends its own

    return on_connect


def _begin_immediate(connection: Connection) -> None:
    """Start every transaction with the write lock (see the module docstring)."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def dead_connection(error: BaseException) -> bool:
    """Whether an asyncpg error says the connection is gone, not that the query failed.

    Besides the obvious (closed, reset, refused, "terminating connection due to administrator
    command"), a connection that was idle when the server shut down has read the server's last
    error but not yet the end of the stream: asyncpg then refuses any query with "cannot switch
    to state ...; another operation is in progress".
    """
    dead = (
        OSError,
        asyncpg.exceptions.InterfaceError,
        asyncpg.exceptions.PostgresConnectionError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
    )
    if isinstance(error, dead):
        return True
    return isinstance(error, asyncpg.exceptions.InternalClientError) and "another operation" in str(error)


def _mark_dead_connections(context: ExceptionContext) -> None:
    """Tell SQLAlchemy that such an error is a disconnect: its pre-ping then opens a new
    connection instead of failing the request, and a failed statement invalidates the pool."""
    if context.original_exception is not None and dead_connection(context.original_exception):
        context.is_disconnect = True


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Build the async engine for the configured URL."""
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        in_memory = not database or database == ":memory:" or "mode=memory" in str(url)
        # One connection, taken in turn; an in-memory database is one connection already (StaticPool).
        pooling = {} if in_memory else {"pool_size": 1, "max_overflow": 0, "pool_timeout": settings.pool_timeout}
        engine = create_async_engine(settings.url, echo=settings.echo, **pooling)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(int(settings.pool_timeout * 1000)))
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    engine = create_async_engine(
        settings.url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=settings.pool_timeout,
        pool_pre_ping=True,
    )
    event.listen(engine.sync_engine, "handle_error", _mark_dead_connections)
    return engine


@dataclass(frozen=True)
class DirectSelect:
    """A Core SELECT compiled once for the engine's dialect: its SQL, arguments and row decoding."""

    statement: Select[Any]
    sql: str
    # Per positional argument: the parameter's name (None for a value fixed in the statement),
    # that fixed value, and the type's conversion to the driver's form.
    arguments: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def compile(cls, statement: Select[Any], dialect: Dialect) -> DirectSelect:
        compiled = statement.compile(dialect=dialect)
        arguments = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            arguments.append((name if bind.required else None, bind.value, convert))
        columns = list(statement.selected_columns)
        return cls(
            statement=statement,
            sql=compiled.string,
            arguments=tuple(arguments),
            keys=tuple(str(c.key) for c in columns),
            processors=tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns),
        )

    def args(self, params: dict[str, Any]) -> list[Any]:
        """The driver's positional arguments for these parameters."""
        values = []
        for name, fixed, convert in self.arguments:
            value = params[name] if name is not None else fixed
            values.append(convert(value) if convert is not None and value is not None else value)
        return values

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        """A driver row as a dict, with the column types' conversions (UUIDs, aware datetimes ...)."""
        return {
            key: process(value) if process is not None and value is not None else value
            for key, process, value in zip(self.keys, self.processors, values, strict=True)
        }


class KeyedLookup:
    """A SELECT of at most one row per value of a unique text column (a token's or a key's hash).

    `one` reads the row of one key (`param` is its bound parameter); `many` reads the rows of
    several keys at once, each row with its key as an extra last column. A reader with a round
    trip to save (PostgreSQL) answers lookups that arrive together with `many`, and every caller
    still gets exactly the row `one` would give. Build it once, at module level, like the other
    statements of the direct reader.
    """

    def __init__(self, statement: Select[Any], key: ColumnElement[str], param: str) -> None:
        if not isinstance(key.type, String):
            raise TypeError(f"a keyed lookup needs a text key column, not {key.type!r}")
        self.statement = statement
        self.key = key
        self.param = param
        self.one: Select[Any] = statement.where(key == bindparam(param))
        keys = bindparam(param, type_=ARRAY(key.type))
        self.many: Select[Any] = statement.add_columns(key.label("lookup_key")).where(key == any_(keys))

    def add_columns(self, *columns: ColumnElement[Any]) -> KeyedLookup:
        """The same lookup reading more columns (the session fields that features add)."""
        return KeyedLookup(self.statement.add_columns(*columns), self.key, self.param)


class DirectReader:
    """Runs a SELECT (compiled once per statement object) and returns its first row as a dict.

    This base class goes through SQLAlchemy; the subclasses below talk to the driver. Give it
    module-level statements with `bindparam`s, so that each is compiled only once.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._compiled: dict[Select[Any], DirectSelect] = {}

    async def first(self, statement: Select[Any], params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row of `statement` with these bound parameters, or None."""
        query = self._query(statement)
        values = await self._values(query, params)
        return self._decode(query, values) if values is not None else None

    async def first_values(self, statement: Select[Any], params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row as the driver gives it, or None: a tuple that can key a cache of what is
        built from the row (`decode` makes it the dict `first` returns)."""
        return await self._values(self._query(statement), params)

    def decode(self, statement: Select[Any], values: tuple[Any, ...]) -> dict[str, Any]:
        """A row from `first_values` as `first` gives it: keys, and the column types' conversions."""
        return self._decode(self._query(statement), values)

    async def values_by_key(self, lookup: KeyedLookup, key: str) -> tuple[Any, ...] | None:
        """`first_values(lookup.one, ...)` for this key: the row as the driver gives it, or None."""
        return await self.first_values(lookup.one, {lookup.param: key})

    async def row_by_key(self, lookup: KeyedLookup, key: str) -> dict[str, Any] | None:
        """`first(lookup.one, ...)` for this key: the row as a dict, or None."""
        values = await self.values_by_key(lookup, key)
        return self.decode(lookup.one, values) if values is not None else None

    def _query(self, statement: Select[Any]) -> DirectSelect:
        query = self._compiled.get(statement)
        if query is None:
            query = self._compiled[statement] = DirectSelect.compile(statement, self.engine.dialect)
        return query

    async def _values(self, query: DirectSelect, params: dict[str, Any]) -> tuple[Any, ...] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(query.statement, params)).first()
        return tuple(row) if row is not None else None

    def _decode(self, query: DirectSelect, values: tuple[Any, ...]) -> dict[str, Any]:
        return dict(zip(query.keys, values, strict=True))  # SQLAlchemy converted them already

    async def close(self) -> None:
        """Release what the reader holds (app shutdown)."""


class BatchingReader(DirectReader):
    """A reader that answers keyed lookups (`values_by_key`) made in the same turn of the event
    loop together.

    The first opens a batch and starts a task that, one turn later, hands the batch's distinct keys
    to `_fetch_keyed` and gives each caller its row. Under load, when many requests are parsed in
    one turn, that is one trip to the database (PostgreSQL: one round trip and one statement; SQLite:
    one hop to the reader's thread and back) and one wake-up for all of them instead of one each
    (the template's docs/performance.md). A lone lookup pays a task and a turn of the loop, about
    ten microseconds.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        # Keyed lookups not sent yet: per lookup, each key and the callers waiting for its row.
        self._batches: dict[KeyedLookup, dict[str, list[asyncio.Future[tuple[Any, ...] | None]]]] = {}
        self._answering: set[asyncio.Task[None]] = set()  # the batches' tasks, referenced while they run

    async def values_by_key(self, lookup: KeyedLookup, key: str) -> tuple[Any, ...] | None:
        loop = asyncio.get_running_loop()
        batch = self._batches.get(lookup)
        if batch is None:  # the first of this turn: the task takes the batch when it starts, a turn later
            batch = self._batches[lookup] = {}
            task = loop.create_task(self._answer(lookup))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        waiter: asyncio.Future[tuple[Any, ...] | None] = loop.create_future()
        batch.setdefault(key, []).append(waiter)
        return await waiter

    async def _answer(self, lookup: KeyedLookup) -> None:
        """Send one batch of keyed lookups and give every caller its row, or the error."""
        batch = self._batches.pop(lookup)
        try:
            rows = await self._fetch_keyed(lookup, list(batch))
        except BaseException as error:
            for waiter in (w for waiters in batch.values() for w in waiters if not w.done()):
                if isinstance(error, asyncio.CancelledError):
                    waiter.cancel()
                else:
                    waiter.set_exception(error)
            if not isinstance(error, Exception):
                raise  # cancelled (the app stops) or exiting: not swallowed
            return  # the callers have the error; this task has nothing more to say
        for key, waiters in batch.items():
            values = rows.get(key)
            for waiter in waiters:
                if not waiter.done():  # a caller cancelled meanwhile (the client went away)
                    waiter.set_result(values)

    async def _fetch_keyed(self, lookup: KeyedLookup, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        """The rows of these keys, by key (a key without a row is left out)."""
        raise NotImplementedError

    def _decode(self, query: DirectSelect, values: tuple[Any, ...]) -> dict[str, Any]:
        return query.row(values)

    async def close(self) -> None:
        for task in list(self._answering):  # a batch still in flight: cancelled, its callers with it
            task.cancel()
        for batch in self._batches.values():  # a batch whose task never started: its callers are not left waiting
            for waiter in (w for waiters in batch.values() for w in waiters):
                waiter.cancel()
        self._batches.clear()


class _Busy:
    """SQLite could not read without waiting (see SQLiteReader)."""


BUSY = _Busy()


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Give a result from the reader's thread to its caller, unless the caller went away."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class SQLiteReader(BatchingReader):
    """Query-only sqlite3 connections that never make the event loop wait for the database.

    A lookup first runs on the loop, on a connection that does not wait for a lock (busy timeout
    0): in WAL mode a read does not wait for a writer, and an indexed lookup takes microseconds,
    less than a hop to a thread and back. Only when SQLite answers "busy" at once (another process
    holds an exclusive lock, a checkpoint restarts the log) does the lookup go to a thread of the
    reader's own, whose connection waits there, DATABASE_POOL_TIMEOUT at most, like every
    connection of the engine; lookups by key that meet the lock together go as one batch
    (`BatchingReader`). Not aiosqlite through the engine: its one connection is the one the
    writers take in turn.
    """

    def __init__(self, engine: AsyncEngine, path: str, timeout: float) -> None:
        super().__init__(engine)
        self.path = path
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None  # opened and used by the thread only
        self._now: sqlite3.Connection | None = None  # the loop's own, which never waits
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def _connection(self) -> sqlite3.Connection:
        """The thread's connection, opened on first use (called on the reader's thread only)."""
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")
            self._conn = conn
        return self._conn

    def _read_now(self, sql: str, args: Sequence[Any]) -> tuple[Any, ...] | _Busy | None:
        """The row, read on the loop without waiting; BUSY when SQLite could not read at once."""
        try:
            if self._now is None:
                conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA query_only=ON")
                self._now = conn
            row: tuple[Any, ...] | None = self._now.execute(sql, args).fetchone()
        except sqlite3.OperationalError:  # locked or busy (or not migrated: the thread says so)
            return BUSY
        return row

    async def values_by_key(self, lookup: KeyedLookup, key: str) -> tuple[Any, ...] | None:
        query = self._query(lookup.one)
        row = self._read_now(query.sql, query.args({lookup.param: key}))
        if not isinstance(row, _Busy):
            return row
        return await super().values_by_key(lookup, key)

    def _serve(self) -> None:
        """The thread: run jobs until the reader closes, then close the connection."""
        while (job := self._jobs.get()) is not None:
            job()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _call(self, work: Callable[[sqlite3.Connection], _T]) -> asyncio.Future[_T]:
        """`work(connection)` on the reader's thread; its result (or error) comes back to the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()

        def job() -> None:
            try:
                result, error = work(self._connection()), None
            except BaseException as raised:
                result, error = None, raised
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
                loop.call_soon_threadsafe(_settle, future, result, error)

        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="sqlite-reader", daemon=True)
            self._thread.start()
        self._jobs.put(job)
        return future

    async def _values(self, query: DirectSelect, params: dict[str, Any]) -> tuple[Any, ...] | None:
        sql, args = query.sql, query.args(params)
        row = self._read_now(sql, args)
        if not isinstance(row, _Busy):
            return row

        def read(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
            row: tuple[Any, ...] | None = conn.execute(sql, args).fetchone()
            return row

        return await self._call(read)

    async def _fetch_keyed(self, lookup: KeyedLookup, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        """One hop for the batch; on the thread, the single-key statement once per key (an indexed
        read costs microseconds, and its SQL stays the one prepared statement of sqlite3's cache)."""
        query = self._query(lookup.one)
        sql, sent = query.sql, [(key, query.args({lookup.param: key})) for key in keys]

        def read(conn: sqlite3.Connection) -> dict[str, tuple[Any, ...]]:
            rows = {}
            for key, args in sent:
                row = conn.execute(sql, args).fetchone()
                if row is not None:
                    rows[key] = row
            return rows

        return await self._call(read)

    async def close(self) -> None:
        await super().close()
        if self._now is not None:
            self._now.close()
            self._now = None
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)  # after the jobs already queued; the thread closes the connection
            await asyncio.get_running_loop().run_in_executor(None, thread.join)


class AsyncpgReader(BatchingReader):
    """The session lookup on asyncpg connections taken from SQLAlchemy's pool: one round trip per
    lookup (per batch, `BatchingReader`), without SQLAlchemy's pre-ping, BEGIN/ROLLBACK and reset
    queries; asyncpg prepares each statement once per connection.

    The reader keeps at most `pool_size` of the engine's connections checked out, for as long as
    it uses them: the process has one pool, whose size bounds every connection it opens. Taking a
    connection from the pool for each lookup would cost a pre-ping round trip and a greenlet each
    time. Not `asyncpg.Pool` either: its acquire and release cost more than the lookup's query (the
    template's docs/performance.md). The connections only ever run one SELECT at a time and hold
    no session state, so a plain list of free ones does: a caller takes one or waits for one, puts
    it back, and a connection that raised (broken, or left mid-query by a cancellation) is closed,
    given back to the pool as invalid, and replaced by the next caller.
    """

    def __init__(self, engine: AsyncEngine, pool_size: int) -> None:
        super().__init__(engine)
        self.pool_size = pool_size
        self._idle: list[Any] = []  # asyncpg connections free now
        self._open = 0  # connections held or being taken from the pool, at most pool_size
        self._waiters: deque[asyncio.Future[Any]] = deque()  # each gets a connection, or None: take one
        self._leases: dict[Any, PoolProxiedConnection] = {}  # each held connection's entry of the pool

    async def _fetch_keyed(self, lookup: KeyedLookup, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        """The rows of these keys, by key: one query for all of them."""
        if len(keys) == 1:
            values = await self._values(self._query(lookup.one), {lookup.param: keys[0]})
            return {keys[0]: values} if values is not None else {}
        query = self._query(lookup.many)
        records = await self._run("fetch", query.sql, query.args({lookup.param: keys}))
        return {record[-1]: tuple(record)[:-1] for record in records}  # the key column is the last

    async def _values(self, query: DirectSelect, params: dict[str, Any]) -> tuple[Any, ...] | None:
        record = await self._run("fetchrow", query.sql, query.args(params))
        return tuple(record) if record is not None else None

    async def _run(self, method: str, sql: str, args: list[Any]) -> Any:
        """`connection.<method>(sql, *args)` on a connection of the reader's: taken, then put back,
        or dropped if it raised.

        A connection that waited idle may have been cut meanwhile (a server restart, a failover)
        without looking closed yet: the SELECT is then sent again on another, down to a new one
        (which the pool pre-pings), so that the first requests after a restart succeed. A new
        connection's error is raised.
        """
        for _ in range(self.pool_size + 1):
            connection, reused = await self._take()
            try:
                result = await getattr(connection, method)(sql, *args)
            except BaseException as error:
                self._drop(connection)
                if reused and dead_connection(error):
                    continue
                raise
            self._hand(connection)
            return result
        raise RuntimeError("unreachable: each turn drops a connection, and the last is a new one")

    async def _take(self) -> tuple[Any, bool]:
        """A connection, and whether it was used before (rather than taken from the pool for this call)."""
        while True:
            if self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection, True
                self._forget(connection)  # the server went away meanwhile (a restart, a terminated backend)
                continue
            if self._open < self.pool_size:
                self._open += 1
                try:
                    return await self._connect(), False
                except BaseException:
                    self._open -= 1
                    self._hand(None)  # a waiter may try in its turn
                    raise
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._hand(waiter.result())  # handed over as this caller went: pass it on
                raise
            if connection is not None:
                return connection, True

    def _hand(self, connection: Any) -> None:
        """Give a free connection (or None: a free place to take one) to the first waiting caller."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self._idle.append(connection)

    def _drop(self, connection: Any) -> None:
        connection.terminate()
        self._forget(connection)
        self._hand(None)

    def _forget(self, connection: Any) -> None:
        """Give a closed connection's place back to the pool, which opens a new one when asked."""
        self._open -= 1
        lease = self._leases.pop(connection, None)
        if lease is not None:
            lease.invalidate()  # closed already: no I/O, only the pool's bookkeeping

    async def _connect(self) -> Any:
        """A connection of the engine's pool (pre-pinged by it), held until dropped or closed.

        SQLAlchemy set it up: its JSON codecs decode json and jsonb as the ORM reads them."""
        lease = await self.engine.raw_connection()
        connection = lease.driver_connection
        self._leases[connection] = lease
        return connection

    async def close(self) -> None:
        await super().close()  # a batch in flight: its connection is dropped, not left checked out
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        for connection in idle:
            lease = self._leases.pop(connection, None)
            if lease is not None:
                await greenlet_spawn(lease.close)  # back to the pool, which the engine then disposes


def reader_pool_size(settings: DatabaseSettings) -> int:
    """How many of the pool's connections the session lookup's reader holds at most: half of
    DATABASE_POOL_SIZE (one at least), so that the ORM always has DATABASE_POOL_SIZE and more. With
    lookups batched, a few connections serve thousands of lookups a second."""
    return max(1, settings.pool_size // 2)


def direct_reader(engine: AsyncEngine, settings: DatabaseSettings) -> DirectReader:
    """The fastest reader for the engine's database: sqlite3 on a file, asyncpg, else SQLAlchemy."""
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            return SQLiteReader(engine, str(Path(database)), settings.pool_timeout)
    elif url.get_driver_name() == "asyncpg":
        return AsyncpgReader(engine, reader_pool_size(settings))
    return DirectReader(engine)


class Database:
    """Owns the engine (and the hot path's direct reader) and hands out sessions; one per app."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.engine = create_engine(settings)
        self.reader = direct_reader(self.engine, settings)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def session(self) -> AsyncIterator[AsyncSession]:
        """Litestar dependency: a session for the request, rolled back if left uncommitted."""
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection (app shutdown)."""
        await self.reader.close()
        await self.engine.dispose()
