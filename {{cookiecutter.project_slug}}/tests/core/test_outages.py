"""Dependencies that go away under load: answers are 503 with Retry-After, never 500, and nothing is lost.

Real servers of the test's own (tests/services.py): a PostgreSQL cluster restarted with
`pg_ctl restart -m fast` while requests run, and a redis-server stopped and started again.
Collected by `make test-services` (--db=postgresql), where PostgreSQL and Redis are installed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import anyio.to_thread
import asyncpg
import httpx
import pytest
from alembic import command
from litestar import Litestar
from redis.asyncio import Redis
from sqlmodel import select

from app.asgi import close_services, create_app
from app.auth.models import User
from app.migrations import alembic_config
from tests.conftest import (
    BASE_URL,
    STRONG_PASSWORD,
    AppFactory,
    AppLog,
    FrozenClock,
    make_settings,
    unique_email,
)
from tests.mailbox import Mailbox
from tests.services import PrivatePostgres, PrivateRedis

UNLIMITED = {"general": 100_000, "sign_in": 100_000, "sign_up": 100_000, "mail_per_address": 100_000}


def browser(app: Litestar, ip: str = "203.0.113.70") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))  # type: ignore[arg-type]  # Litestar's ASGI types
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"origin": BASE_URL}, timeout=60)


async def sign_up_and_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    body = {"name": "P", "email": email, "password": STRONG_PASSWORD}
    assert (await client.post("/api/auth/sign-up/email", json=body)).status_code == 200
    return await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})


async def under_load(
    requests: Callable[[int], Awaitable[httpx.Response]], during: Callable[[], Awaitable[None]], workers: int = 8
) -> list[httpx.Response]:
    """Run `requests(n)` on `workers` loops until `during()` has returned; every response."""
    done = asyncio.Event()
    answers: list[httpx.Response] = []

    async def worker(number: int) -> None:
        while not done.is_set():
            answers.append(await requests(number))
            await asyncio.sleep(0)  # let the other workers and the outage move on

    tasks = [asyncio.create_task(worker(n)) for n in range(workers)]
    try:
        await during()
    finally:
        done.set()
        await asyncio.gather(*tasks)
    return answers


def assert_clean(answers: list[httpx.Response], allowed: set[int]) -> None:
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= allowed, statuses
    for answer in answers:
        if answer.status_code == 503:
            assert answer.json()["code"] == "SERVICE_UNAVAILABLE" and int(answer.headers["retry-after"]) > 0


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture
async def postgres_app(postgres: PrivatePostgres, mailbox: Mailbox) -> AsyncIterator[Litestar]:
    admin = await asyncpg.connect(postgres.url().replace("+asyncpg", ""))
    await admin.execute("CREATE DATABASE app")
    await admin.close()
    url = postgres.url("app")
    await anyio.to_thread.run_sync(command.upgrade, alembic_config(url), "heads")
    app = create_app(make_settings(url, mailbox.port, rate_limit=UNLIMITED, database={"pool_timeout": 5}))
    yield app
    await close_services(app)


async def test_a_postgresql_restart_under_load_answers_503_and_loses_nothing(
    postgres: PrivatePostgres, postgres_app: Litestar, app_log: AppLog
) -> None:
    app = postgres_app
    async with browser(app) as client:
        owner = unique_email()
        assert (await sign_up_and_in(client, owner)).status_code == 200
        committed: list[str] = []

        async def request(number: int) -> httpx.Response:
            if number % 2:  # the session lookup (the direct reader) ...
                return await client.get("/api/auth/get-session")
            email = unique_email("during")  # ... and writes (SQLAlchemy's pool)
            body = {"name": "D", "email": email, "password": STRONG_PASSWORD}
            async with browser(app) as other:
                answer = await other.post("/api/auth/sign-up/email", json=body)
            if answer.status_code == 200:
                committed.append(email)
            return answer

        answers = await under_load(request, lambda: anyio.to_thread.run_sync(postgres.restart))
        assert_clean(answers, {200, 503})
        assert app_log.messages(level=logging.ERROR) == []  # 503s are one warning line each, no traceback
        assert app_log.messages("app.errors", logging.WARNING)  # ... and there were some
        # The first requests after the restart succeed: dead connections are replaced, not used.
        session = await client.get("/api/auth/get-session")
        assert session.status_code == 200 and session.json()["user"]["email"] == owner
        assert (await sign_up_and_in(client, unique_email("after"))).status_code == 200
        assert (await client.get("/ready")).json()["status"] == "ok"
    async with app.state.db.sessions() as db:
        emails = set((await db.exec(select(User.email))).all())
        assert {owner, *committed} <= emails  # every sign-up answered 200 is there


async def test_the_first_requests_after_a_quiet_restart_succeed(
    postgres: PrivatePostgres, postgres_app: Litestar, app_log: AppLog
) -> None:
    """Every pooled connection, the session lookup's and SQLAlchemy's, was cut while idle: each is
    found dead when next used and replaced, and the request it was taken for does not notice."""
    app = postgres_app
    async with browser(app) as client:
        email = unique_email()
        assert (await sign_up_and_in(client, email)).status_code == 200
        assert (await client.get("/api/auth/get-session")).status_code == 200  # the reader's connection, idle now
        await anyio.to_thread.run_sync(postgres.restart)
        session = await client.get("/api/auth/get-session")
        assert session.status_code == 200 and session.json()["user"]["email"] == email
        assert (await sign_up_and_in(client, unique_email("after"))).status_code == 200
    assert app_log.messages(level=logging.WARNING) == []


async def test_the_session_lookup_is_a_503_while_postgresql_is_down_and_recovers_when_it_is_back(
    postgres: PrivatePostgres, postgres_app: Litestar, app_log: AppLog
) -> None:
    """The reader's connections are the engine pool's: while the server is stopped a lookup is a
    503 (never a 500), the next one after it is back succeeds, and no connection was leaked."""
    app = postgres_app
    pool = app.state.db.engine.sync_engine.pool
    async with browser(app) as client:
        email = unique_email()
        assert (await sign_up_and_in(client, email)).status_code == 200
        assert (await client.get("/api/auth/get-session")).status_code == 200
        held = pool.checkedout()  # the reader's connection, idle now
        assert held >= 1
        await anyio.to_thread.run_sync(postgres.stop)
        for _ in range(3):
            down = await client.get("/api/auth/get-session")
            assert down.status_code == 503 and down.json()["code"] == "SERVICE_UNAVAILABLE"
        await anyio.to_thread.run_sync(postgres.start)
        session = await client.get("/api/auth/get-session")
        assert session.status_code == 200 and session.json()["user"]["email"] == email
        assert pool.checkedout() <= held  # the dead connections went back to the pool as invalid
    assert app_log.messages(level=logging.ERROR) == []  # 503s are warnings, no traceback


async def test_an_unreachable_database_is_a_503_for_pages_and_api(
    postgres_app: Litestar, postgres: PrivatePostgres
) -> None:
    app = postgres_app
    async with browser(app) as client:
        signed_in = await sign_up_and_in(client, unique_email())
        assert signed_in.status_code == 200
        await anyio.to_thread.run_sync(postgres.remove)  # gone, not coming back
        api = await client.get("/api/auth/get-session")
        assert api.status_code == 503 and api.json()["code"] == "SERVICE_UNAVAILABLE"
        assert api.headers["retry-after"] == "5"
        page = await client.get("/account/security", headers={"accept": "text/html"})
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert "Try again in a few seconds" in page.text
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json() | {"pending_migrations": []} == {
            "status": "unavailable",
            "database": "unavailable",
            "migrations": "unknown",
            "pending_migrations": [],
        }


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


async def test_the_app_keeps_serving_while_redis_is_away_and_shares_again_after(
    make_app: AppFactory, redis_server: PrivateRedis, clock: FrozenClock, app_log: AppLog
) -> None:
    app = make_app(redis={"url": redis_server.url, "retry_seconds": 5}, rate_limit={"sign_in": 20})
    redis = Redis.from_url(redis_server.url)
    try:
        async with browser(app) as client:
            assert (await sign_up_and_in(client, unique_email())).status_code == 200
            assert await redis.keys("app:ratelimit:sign_in:*")  # counted in Redis

            async def request(number: int) -> httpx.Response:
                if number % 2:
                    return await client.get("/api/auth/get-session")
                return await client.post("/api/auth/sign-in/email", json={"email": unique_email(), "password": "x" * 9})

            answers = await under_load(request, lambda: anyio.to_thread.run_sync(redis_server.stop))
            answers += [await request(n) for n in range(60)]  # and on, with Redis away
            assert_clean(answers, {200, 401, 429})
            assert 429 in {a.status_code for a in answers}  # the sign-in limit still holds, in this process
            ready = await client.get("/ready")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["redis"] == "unavailable" and ready.json()["database"] == "ok"
            outage = app_log.messages("app.redis")
            assert len(outage) == 1 and "does not answer" in outage[0]  # loudly, once

            await anyio.to_thread.run_sync(redis_server.start)
            await redis.aclose()
            redis = Redis.from_url(redis_server.url)
            clock.advance(5)  # the next try: counting moves back to Redis without a restart
            assert (await client.get("/api/auth/get-session")).status_code == 200
            assert await redis.keys("app:ratelimit:general:*")
            assert (await client.get("/ready")).json()["status"] == "ok"
            assert "answers again" in app_log.messages("app.redis")[-1]
    finally:
        await redis.aclose()
