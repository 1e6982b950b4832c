"""Shared fixtures: settings for tests, a real database (SQLite or PostgreSQL), a real SMTP server, clients.

`pytest` runs on SQLite; `pytest --db=postgresql` runs the same tests on PostgreSQL
(TEST_POSTGRES_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/test), each run in
a database of its own that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from alembic import command
from litestar import Litestar

from app.asgi import create_app
from app.core import ratelimit
from app.core.migrations import alembic_config
from app.settings import Settings, load_settings
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
        help="run the shared-store tests against this Redis (e.g. redis://127.0.0.1:6379/15)",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The Redis tests need a server: they are collected only when --redis-url names one; the
    asyncpg reader's own tests only with --db=postgresql.

    None (not False) otherwise, so that `collect_ignore` lists in other conftest files still apply.
    """
    if collection_path.name == "test_redis_store.py" and not config.getoption("--redis-url"):
        return True
    if collection_path.name == "test_asyncpg_reader.py" and config.getoption("--db") != "postgresql":
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
    import anyio

    base = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    anyio.run(run, f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + f"/{name}"
    anyio.run(run, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(database_url: str, mail_port: int, **groups: dict[str, Any]) -> Settings:
    """Test settings: SMTP to the test mailbox, fast but valid hashing, overridable per group."""
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
        base[name] = base[name] | values
    return load_settings(**base)


@pytest.fixture
def database_url(tmp_path: Path, postgres_server_url: str | None) -> Iterator[str]:
    """A migrated, empty database for one test."""
    url = postgres_server_url or f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    command.upgrade(alembic_config(url), "heads")
    yield url
    if postgres_server_url is not None:
        command.downgrade(alembic_config(url), "base")


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    return make_settings(database_url, mailbox.port)


AppFactory = Callable[..., Litestar]


@pytest.fixture
async def make_app(database_url: str, mailbox: Mailbox) -> AsyncIterator[AppFactory]:
    """Build apps with settings overridden per group (`make_app(auth={...})`); disposed afterwards."""
    built: list[Litestar] = []

    def build(**groups: dict[str, Any]) -> Litestar:
        application = create_app(make_settings(database_url, mailbox.port, **groups))
        built.append(application)
        return application

    yield build
    for application in built:
        await application.state.mailer.drain()
        await application.state.db.dispose()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    application = create_app(settings)
    yield application
    await application.state.mailer.drain()
    await application.state.db.dispose()


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


@pytest.fixture
def one_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the rate limiter's clock inside the current window, for tests that count up to a limit.

    Windows are fixed and aligned to the clock (see app.core.ratelimit): a test whose requests
    straddle a window boundary would find its counts reset half-way and its limit never reached.
    """
    frozen = float(int(time.time()) // 60 * 60 + 1)
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: frozen))


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
