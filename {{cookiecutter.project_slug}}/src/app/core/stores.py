"""The shared store: kept forms, rate-limit counters and budgets, in memory or in Redis.

One process keeps them in memory. Several instances set REDIS_URL so that they count as one
site; then Redis is a dependency that can go away. While it does not answer, everything that
lives in it uses this process's memory instead (`RedisHealth` notices, logs it loudly once, and
tries Redis again every few seconds): the app keeps serving, each instance counting for itself
until Redis answers again, when they share their counts again without a restart. What was
counted or kept in memory meanwhile stays there (docs/operations.md says what that means).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar

import redis.exceptions
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.core import clock
from app.settings import RedisSettings

logger = logging.getLogger("app.redis")

# What Redis raises when it cannot answer: refused, reset, timed out, loading, or a DNS failure.
REDIS_DOWN: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
T = TypeVar("T")


class RedisHealth:
    """Whether Redis answers; while it does not, callers use their fallback without waiting for it.

    After a failure, Redis is left alone for `retry_seconds`; the first call after that tries it
    again. The outage and the recovery are logged once each (an error, then a warning).
    """

    def __init__(self, url: str, retry_seconds: float) -> None:
        self.where = url.split("@")[-1]  # never the password
        self.retry_seconds = retry_seconds
        self._retry_at = 0.0  # when to try again (app.core.clock); 0: Redis answers

    @property
    def up(self) -> bool:
        """Whether to ask Redis now (it answers, or it is time to try again)."""
        return self._retry_at == 0.0 or clock.now() >= self._retry_at

    def failed(self, error: BaseException) -> None:
        if self._retry_at == 0.0:
            logger.error(
                "Redis at %s does not answer (%s: %s): rate limits, budgets and kept forms count in this "
                "process until it does; trying again every %s s",
                self.where,
                type(error).__name__,
                error,
                self.retry_seconds,
            )
        self._retry_at = clock.now() + self.retry_seconds

    def answered(self) -> None:
        if self._retry_at != 0.0:
            self._retry_at = 0.0
            logger.warning("Redis at %s answers again: counts are shared again", self.where)

    async def call(self, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        """`primary()` (a Redis call) while Redis answers, else (or if it fails now) `fallback()`."""
        if self.up:
            try:
                result = await primary()
            except REDIS_DOWN as error:
                self.failed(error)
            else:
                self.answered()
                return result
        return await fallback()


class SharedStore(Store):
    """A Litestar store in Redis, with this process's memory standing in while Redis is away."""

    def __init__(self, redis_store: RedisStore, health: RedisHealth) -> None:
        self.redis = redis_store
        self.local = MemoryStore()
        self.health = health

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self.health.call(
            lambda: self.redis.set(key, value, expires_in), lambda: self.local.set(key, value, expires_in)
        )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self.health.call(lambda: self.redis.get(key, renew_for), lambda: self.local.get(key, renew_for))

    async def delete(self, key: str) -> None:
        await self.health.call(lambda: self.redis.delete(key), lambda: self.local.delete(key))

    async def delete_all(self) -> None:
        await self.local.delete_all()
        await self.health.call(self.redis.delete_all, self.local.delete_all)

    async def exists(self, key: str) -> bool:
        return await self.health.call(lambda: self.redis.exists(key), lambda: self.local.exists(key))

    async def expires_in(self, key: str) -> int | None:
        return await self.health.call(lambda: self.redis.expires_in(key), lambda: self.local.expires_in(key))

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_val: BaseException | None, exc_tb: TracebackType | None
    ) -> None:
        await self.redis.__aexit__(exc_type, exc_val, exc_tb)


def build_store(settings: RedisSettings) -> Store:
    """Memory without REDIS_URL; otherwise Redis (answers within REDIS_TIMEOUT or counts as away)."""
    if not settings.url:
        return MemoryStore()
    client: Redis = Redis.from_url(
        settings.url,
        socket_timeout=settings.timeout,
        socket_connect_timeout=settings.timeout,
        retry=Retry(NoBackoff(), 1),  # once more at once, on a fresh connection: a restart left it dead
    )
    redis_store = RedisStore(client, namespace="app", handle_client_shutdown=True)
    return SharedStore(redis_store, RedisHealth(settings.url, settings.retry_seconds))


def redis_client(store: Store) -> Any:
    """The Redis client of a store from `build_store` (for counters that need its commands)."""
    if not isinstance(store, SharedStore):
        raise TypeError(f"not a Redis store: {store!r}")
    return store.redis._redis  # Litestar's RedisStore has no public accessor
