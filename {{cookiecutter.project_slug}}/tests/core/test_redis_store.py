"""With REDIS_URL, rate-limit counters are shared by every instance of the app (run with --redis-url)."""

from __future__ import annotations

import httpx
import pytest
from redis.asyncio import Redis

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
