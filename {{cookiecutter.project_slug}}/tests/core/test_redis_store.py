"""With REDIS_URL, rate-limit counters are shared by every instance of the app (`make test-services`).

The Redis is the run's own redis-server (tests/services.py), so that two runs side by side do
not count each other's requests; `--redis-url` names another one instead, which is emptied.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis

from app.core.counters import Counters, FallbackCounter
from app.core.stores import SharedStore, build_store
from app.settings import RedisSettings
from tests.conftest import BASE_URL, AppFactory, FrozenClock, unique_email
from tests.services import PrivateRedis


@pytest.fixture(scope="module")
def redis_server(request: pytest.FixtureRequest) -> Iterator[str]:
    given = request.config.getoption("--redis-url")
    if given:
        yield str(given)
        return
    server = PrivateRedis()
    server.start()
    yield server.url
    server.remove()


@pytest.fixture
async def redis_url(redis_server: str) -> str:
    """The Redis, emptied: each test counts from zero."""
    client = Redis.from_url(redis_server)
    await client.flushdb()
    await client.aclose()
    return redis_server


async def test_two_instances_share_the_sign_in_limit(make_app: AppFactory, redis_url: str) -> None:
    first = make_app(redis={"url": redis_url}, rate_limit={"sign_in": 3})
    second = make_app(redis={"url": redis_url}, rate_limit={"sign_in": 3})
    codes = []
    for i in range(4):
        app = first if i % 2 == 0 else second
        transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"origin": BASE_URL}) as client:
            response = await client.post(
                "/api/auth/sign-in/email", json={"email": unique_email(), "password": "x" * 12}
            )
            codes.append(response.status_code)
    assert codes == [401, 401, 401, 429]


async def test_failed_sign_in_budget_is_shared_too(make_app: AppFactory, redis_url: str) -> None:
    first = make_app(redis={"url": redis_url}, rate_limit={"failed_sign_in_budget": 2})
    second = make_app(redis={"url": redis_url}, rate_limit={"failed_sign_in_budget": 2})
    email = unique_email()
    codes = []
    for app in (first, second, first):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"origin": BASE_URL}) as client:
            response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": "x" * 12})
            codes.append(response.status_code)
    assert codes == [401, 401, 429]


def shared_store(url: str) -> SharedStore:
    store = build_store(RedisSettings(url=url))
    assert isinstance(store, SharedStore)
    return store


async def test_redis_counts_in_one_shared_window(redis_url: str) -> None:
    stores = [shared_store(redis_url) for _ in range(2)]
    counters = [Counters(store).window() for store in stores]
    assert all(isinstance(counter, FallbackCounter) for counter in counters)
    try:
        assert await counters[0].hit(["ratelimit:general:ip", "ratelimit:sign_in:ip"], 60) == [1, 1]
        assert await counters[1].hit(["ratelimit:general:ip"], 60) == [2]  # another instance, same count
        client = Redis.from_url(redis_url)
        keys = await client.keys("app:ratelimit:general:ip:*")
        assert len(keys) == 1 and 0 < await client.ttl(keys[0]) <= 60  # namespaced, and it expires
        await client.aclose()
    finally:
        for store in stores:
            await store.__aexit__(None, None, None)


async def test_redis_budgets_take_back_and_clear(redis_url: str) -> None:
    store = shared_store(redis_url)
    counter = Counters(store).window()
    key = f"budget:test:{uuid.uuid4().hex}"
    client = Redis.from_url(redis_url)
    try:
        assert await counter.hit([key, key], 900) == [1, 2]
        await counter.take_back(key, 900)
        assert await counter.hit([key], 900) == [2]
        await counter.clear(key, 900)
        assert await client.keys(f"app:{key}:*") == []
        await counter.take_back(key, 900)  # nothing to give back: no key without expiry is made
        assert await client.keys(f"app:{key}:*") == []
        assert await counter.hit([key], 900) == [1]
    finally:
        await client.aclose()
        await store.__aexit__(None, None, None)


async def test_redis_sliding_windows_are_shared_exact_and_expire(redis_url: str, clock: FrozenClock) -> None:
    stores = [shared_store(redis_url) for _ in range(2)]
    logs = [Counters(store).log(60) for store in stores]
    key = f"budget:test:{uuid.uuid4().hex}"
    client = Redis.from_url(redis_url)
    try:
        clock.advance(58)  # near the end of a minute: a fixed window would start again in 2 s
        assert [(await logs[i % 2].take(key, 3)).allowed for i in range(3)] == [True, True, True]
        clock.advance(3)  # the next minute has begun, but the three attempts are 3 s old
        refused = await logs[0].take(key, 3)
        assert not refused.allowed and refused.used == 3 and refused.retry_after == 57
        assert 0 < await client.pttl(f"app:{key}") <= 60_000  # the key goes with its newest attempt
        await logs[1].give_back(key)  # a unit given back on one instance is free on the other
        assert (await logs[0].take(key, 3)).allowed
        clock.advance(57)  # the first three leave the window; the one taken after the give-back stays
        assert [(await logs[1].take(key, 3)).allowed for _ in range(3)] == [True, True, False]
        await logs[0].clear(key)
        assert await client.exists(f"app:{key}") == 0
    finally:
        await client.aclose()
        for store in stores:
            await store.__aexit__(None, None, None)
