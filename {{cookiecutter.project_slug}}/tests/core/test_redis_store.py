"""With REDIS_URL, rate-limit counters are shared by every instance of the app (run with --redis-url)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from app.core import ratelimit
from tests.conftest import BASE_URL, AppFactory, unique_email


@pytest.fixture
async def redis_url(request: pytest.FixtureRequest) -> str:
    url = str(request.config.getoption("--redis-url"))
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url


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


async def test_redis_counts_in_one_shared_window(redis_url: str) -> None:
    stores = [RedisStore.with_client(url=redis_url, namespace="app") for _ in range(2)]
    counters = [ratelimit.counter_for(store) for store in stores]
    assert all(isinstance(counter, ratelimit.RedisCounter) for counter in counters)
    try:
        assert await counters[0].hit(["ratelimit:general:ip", "ratelimit:sign_in:ip"], 60) == [1, 1]
        assert await counters[1].hit(["ratelimit:general:ip"], 60) == [2]  # another instance, same count
        client = Redis.from_url(redis_url)
        keys = await client.keys("app:ratelimit:general:ip:*")
        assert len(keys) == 1 and 0 < await client.ttl(keys[0]) <= 60  # namespaced, and it expires
        await client.aclose()
    finally:
        for store in stores:
            await store._redis.aclose()


@pytest.mark.usefixtures("one_rate_limit_window")
async def test_redis_budgets_take_back_and_clear(redis_url: str) -> None:
    store = RedisStore.with_client(url=redis_url, namespace="app")
    counter = ratelimit.counter_for(store)
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
        await store._redis.aclose()
