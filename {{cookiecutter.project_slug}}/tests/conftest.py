"""Shared fixtures: settings for tests, a real database (SQLite or PostgreSQL), a real SMTP server, clients.

`pytest` runs on SQLite; `pytest --db=postgresql` runs the same tests on PostgreSQL
(TEST_POSTGRES_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/test), each run in
a database of its own that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import asyncpg
import httpx
import pytest
from alembic import command
from litestar import Litestar

from app.asgi import close_services, create_app, load_app_settings, renew_services
from app.core import clock as app_clock
from app.migrations import alembic_config
from app.settings import Settings, SettingsError
from tests.mailbox import Mailbox

BASE_URL = "http://testserver.local"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')

# Tests never read the developer's .env: everything they need is set here.
os.environ.setdefault("APP_ENV", "test")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite", help="database for the tests")
    parser.addoption(
        "--redis-url",
        default=None,
        help="run the shared-store tests against this Redis, which they empty (default with --db=postgresql: "
        "a redis-server of their own)",
    )


def _services(config: pytest.Config) -> bool:
    """Whether this run has the real services (`make test-services`): PostgreSQL and Redis."""
    return config.getoption("--db") == "postgresql" or bool(config.getoption("--redis-url"))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Tests that need PostgreSQL's or Redis's programs (the asyncpg reader's, the shared stores',
    the outages of private servers) are collected with the real services only; SQLite's write
    lock's only on SQLite.

    None (not False) otherwise, so that `collect_ignore` lists in other conftest files still apply.
    """
    services_only = {"test_redis_store.py", "test_asyncpg_reader.py", "test_outages.py"}
    if collection_path.name in services_only and not _services(config):
        return True
    if collection_path.name == "test_sqlite_writes.py" and config.getoption("--db") != "sqlite":
        return True
    return None


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server receiving every mail the app sends."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def postgres_server_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test run (None on SQLite)."""
    if request.config.getoption("--db") != "postgresql":
        yield None
        return
    base = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.replace("postgresql+asyncpg://", "postgresql://")
    anyio.run(_postgres_execute, admin_dsn, f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + f"/{name}"
    anyio.run(_postgres_execute, admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _postgres_execute(dsn: str, *statements: str) -> list[Any]:
    """Run statements on a connection of their own; the rows of the last one."""
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[Any] = []
        for statement in statements:
            rows = await conn.fetch(statement)
        return rows
    finally:
        await conn.close()


class MigratedDatabase:
    """The suite's database, migrated once and handed to each test empty.

    Migrating takes longer than most tests: on SQLite each test gets a copy of a file migrated
    once; on PostgreSQL the run's database is migrated once and every table is emptied before
    each test (a test that migrated it down is migrated up again).
    """

    def __init__(self, directory: Path, postgres_url: str | None) -> None:
        self.postgres_url = postgres_url
        self.template = directory / "migrated.db"
        url = postgres_url or f"sqlite+aiosqlite:///{self.template}"
        command.upgrade(alembic_config(url), "heads")
        if postgres_url is None:
            with closing(sqlite3.connect(self.template)) as conn:  # nothing left in the write-ahead log
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.tables: list[str] = []
            return
        dsn = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
        listed = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        self.tables = sorted(row[0] for row in anyio.run(_postgres_execute, dsn, listed))
        self.heads = self._heads(dsn)

    @staticmethod
    def _heads(dsn: str) -> list[str]:
        rows = anyio.run(_postgres_execute, dsn, "SELECT version_num FROM alembic_version")
        return sorted(row[0] for row in rows)

    def fresh(self, directory: Path) -> str:
        """The URL of an empty, migrated database for one test."""
        if self.postgres_url is None:
            path = directory / "test.db"
            shutil.copyfile(self.template, path)
            return f"sqlite+aiosqlite:///{path}"
        dsn = self.postgres_url.replace("postgresql+asyncpg://", "postgresql://")
        if self._heads(dsn) != self.heads:  # a test migrated it down
            command.upgrade(alembic_config(self.postgres_url), "heads")
        tables = ", ".join(f'"{table}"' for table in self.tables)
        anyio.run(_postgres_execute, dsn, "SET lock_timeout = '10s'", f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return self.postgres_url


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str | None) -> MigratedDatabase:
    return MigratedDatabase(tmp_path_factory.mktemp("migrated"), postgres_server_url)


def make_settings(database_url: str, mail_port: int, **groups: dict[str, Any]) -> Settings:
    """Test settings: SMTP to the test mailbox, cheap hashing, overridable per group.

    Argon2 at its cheapest (8 KiB, one pass: allowed with APP_ENV=test only) costs microseconds
    instead of ~40 ms a hash; the tests of hashing itself set their own parameters. Settings are
    immutable, so the groups are read once per set of arguments and environment; each test then
    gets its own database URL in a copy.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    key = json.dumps([mail_port, groups, environment], sort_keys=True, default=str)
    cached = _SETTINGS.get(key)
    if cached is None:
        cached = _SETTINGS[key] = _load_test_settings(DEFAULT_SQLITE, mail_port, groups)
    url = groups.get("database", {}).get("url", database_url)  # a test may name another database
    database = cached.database.model_copy(update={"url": url})
    return cached.replace(database=database)


_SETTINGS: dict[str, Settings] = {}
DEFAULT_SQLITE = "sqlite+aiosqlite:///unused.db"  # replaced by each test's own database


def _load_test_settings(database_url: str, mail_port: int, groups: dict[str, dict[str, Any]]) -> Settings:
    base: dict[str, dict[str, Any]] = {
        "app": {"env": "test", "base_url": BASE_URL, "name": "Test App"},
        "secrets": {"secret_key": "test-secret-" + "x" * 40},
        "database": {"url": database_url},
        "redis": {"url": ""},
        "mail": {
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": mail_port,
            "smtp_security": "none",
            "from_address": "Test App <no-reply@example.com>",
        },
        "auth": {},
        "rate_limit": {},
    }
    for name, values in groups.items():
        base[name] = base.get(name, {}) | values
    if base["app"]["env"] == "test":
        base["auth"] = {"argon2_memory_kib": 8, "argon2_time_cost": 1} | base["auth"]
    return load_app_settings(**base)


def settings_problems(**groups: dict[str, Any]) -> list[str]:
    """Every problem the start-up check finds in the test settings with these groups overridden."""
    try:
        _load_test_settings(DEFAULT_SQLITE, 2525, groups)
    except SettingsError as error:
        return error.problems
    return []


@pytest.fixture
def database_url(tmp_path: Path, migrated_database: MigratedDatabase) -> str:
    """A migrated, empty database for one test."""
    return migrated_database.fresh(tmp_path)


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    return make_settings(database_url, mailbox.port)


class AppPool:
    """Apps built once per run and renewed for each test that takes one.

    Building an app registers every route (~0.3 s with all features, more than most tests take);
    renewing one gives it new services (database pool, stores, counters, caches: see
    app.asgi.renew_services) for a few milliseconds. Apps are pooled by everything that decides
    their registration: the APP_* and secret settings, and the environment (features read their
    own settings from it). A test taking two apps at once gets two different apps (two
    instances of one site).
    """

    def __init__(self) -> None:
        self._free: dict[str, list[Litestar]] = {}
        self._keys: dict[int, str] = {}  # id of an app taken -> its key, read when it was taken

    @staticmethod
    def _key(settings: Settings) -> str:
        groups = [settings.app.model_dump(mode="json"), settings.secrets.model_dump(mode="json")]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        return json.dumps([groups, environment], sort_keys=True)

    def take(self, settings: Settings) -> Litestar:
        """An app for these settings: a free one renewed, else a new one."""
        key = self._key(settings)
        free = self._free.get(key)
        if free:
            application = free.pop()
            renew_services(application, settings)
        else:
            application = create_app(settings)
        self._keys[id(application)] = key
        return application

    async def give_back(self, application: Litestar) -> None:
        """Close the app's services (mail delivered, connections closed) and keep it for another test."""
        await close_services(application)
        self._free.setdefault(self._keys.pop(id(application)), []).append(application)


@pytest.fixture(scope="session")
def app_pool() -> AppPool:
    return AppPool()


AppFactory = Callable[..., Litestar]


@pytest.fixture
async def make_app(database_url: str, mailbox: Mailbox, app_pool: AppPool) -> AsyncIterator[AppFactory]:
    """Apps with settings overridden per group (`make_app(auth={...})`), on this test's database."""
    taken: list[Litestar] = []

    def build(**groups: dict[str, Any]) -> Litestar:
        application = app_pool.take(make_settings(database_url, mailbox.port, **groups))
        taken.append(application)
        return application

    yield build
    for application in taken:
        await app_pool.give_back(application)


@pytest.fixture
async def app(settings: Settings, app_pool: AppPool) -> AsyncIterator[Litestar]:
    application = app_pool.take(settings)
    yield application
    await app_pool.give_back(application)


class Client(httpx.AsyncClient):
    """A test client that behaves like a same-origin browser (sends Origin) with CSRF helpers.

    The app runs in the test's own event loop (so tests may share its database pool), requests
    arrive from 127.0.0.1, and redirects are not followed: tests see each 303 and its target.
    """

    def __init__(self, app: Litestar, base_url: str = BASE_URL, client_ip: str = "127.0.0.1") -> None:
        super().__init__(
            transport=httpx.ASGITransport(app=app, client=(client_ip, 50000)),  # type: ignore[arg-type]  # Litestar's precise ASGI types
            base_url=base_url,
            follow_redirects=False,
        )
        self.app = app

    async def csrf(self, path: str) -> str:
        """GET a page and return the CSRF token of its form."""
        response = await self.get(path)
        match = CSRF_RE.search(response.text)
        assert match, f"no CSRF token on {path} (status {response.status_code})"
        return match.group(1)

    async def submit(self, path: str, data: dict[str, str], page: str | None = None, **kwargs: Any) -> Any:
        """POST a form the way a browser does: CSRF token from the page, urlencoded body."""
        token = await self.csrf(page or path)
        return await self.post(path, data={**data, "_csrf_token": token}, **kwargs)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[Client]:
    async with Client(app=app, base_url=BASE_URL) as test_client:
        test_client.headers["origin"] = BASE_URL
        yield test_client


class Inbox:
    """Reads the test mailbox after the app's pending mails have been delivered."""

    def __init__(self, app: Litestar, mailbox: Mailbox) -> None:
        self.app = app
        self.mailbox = mailbox

    async def all(self, address: str) -> list[Any]:
        await self.app.state.mailer.drain()
        return self.mailbox.to(address)

    async def last(self, address: str) -> Any:
        mails = await self.all(address)
        assert mails, f"no mail to {address}"
        return mails[-1]


@pytest.fixture
def inbox(app: Litestar, mailbox: Mailbox) -> Inbox:
    return Inbox(app, mailbox)


def unique_email(prefix: str = "user") -> str:
    """A new address per call, so tests sharing the session mailbox never see each other's mail."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


STRONG_PASSWORD = "correct horse battery staple 42"


async def sign_up_api(client: Client, email: str, password: str = STRONG_PASSWORD, name: str = "Ada Lovelace") -> Any:
    """Sign up through the JSON API."""
    return await client.post("/api/auth/sign-up/email", json={"name": name, "email": email, "password": password})


async def signed_in(client: Client, email: str | None = None, password: str = STRONG_PASSWORD) -> str:
    """Sign up and sign in through the JSON API; return the email. The client keeps the cookie."""
    email = email or unique_email()
    response = await sign_up_api(client, email, password)
    assert response.status_code == 200, response.text
    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return email


async def reauthenticate(client: Client, location: str, password: str = STRONG_PASSWORD) -> str:
    """Confirm the password on the re-authentication page at `location`; return where it sends back to."""
    target = parse_qs(urlsplit(location).query)["next"][0]
    done = await client.submit("/reauthenticate", {"password": password, "next": target}, page=location)
    assert done.status_code == 303, done.text
    back: str = done.headers["location"]
    assert back == target
    return back


class AppLog(logging.Handler):
    """What the app logged during one test (its own loggers, `app.*`, and Litestar's).

    Not pytest's caplog: building an app applies Litestar's logging configuration, which replaces
    the root logger's handlers, caplog's among them, so a test could see nothing and pass.
    """

    LOGGERS = ("app", "litestar")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, name: str = "", level: int = logging.DEBUG) -> list[str]:
        """The messages of `name` (and its children) at `level` or above."""
        return [
            r.getMessage()
            for r in self.records
            if r.levelno >= level and (not name or r.name == name or r.name.startswith(name + "."))
        ]


@pytest.fixture
def app_log() -> Iterator[AppLog]:
    handler = AppLog()
    for name in AppLog.LOGGERS:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in AppLog.LOGGERS:
        logging.getLogger(name).removeHandler(handler)


class FrozenClock:
    """The rate limits' clock (app.core.clock), stopped; `advance` moves it."""

    def __init__(self, start: float) -> None:
        self.time = start

    def __call__(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += seconds


# A second into a minute: a test counting up to a limit is never cut by a window's end.
FROZEN_START = 1_900_000_000.0 // 60 * 60 + 1


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Every test runs with the rate limits' clock stopped: counts never depend on how fast the
    machine is or on where a minute ends. A test that needs time to pass calls `clock.advance`."""
    frozen = FrozenClock(FROZEN_START)
    monkeypatch.setattr(app_clock, "now", frozen)
    return frozen


async def answered_before_the_link(
    client: Client, app: Litestar, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, path: str, subject: str
) -> None:
    """POST an address that has an account to `path` while its link's token is held back: the
    answer must come first (the link's row, commit and mail would tell that the account exists);
    then the mail whose subject holds `subject` arrives."""
    email = unique_email()
    await sign_up_api(client, email)
    await app.state.mailer.drain()
    held = asyncio.Event()
    issue_token = app.state.auth.issue_token

    async def held_issue_token(*args: Any, **kwargs: Any) -> str:
        await held.wait()
        return str(await issue_token(*args, **kwargs))

    monkeypatch.setattr(app.state.auth, "issue_token", held_issue_token)
    answer = await asyncio.wait_for(client.post(path, json={"email": email}), 5)
    assert answer.status_code == 200  # answered while the link is still being made
    assert not any(subject in mail.subject.lower() for mail in mailbox.to(email))
    held.set()
    await app.state.mailer.drain()
    assert subject in mailbox.to(email)[-1].subject.lower()
