"""The counters behind the rate limits and budgets: in this process, or in Redis for every instance.

Two kinds, for two jobs:

- `WindowCounter`, fixed windows: one count per key and window of the clock, a dict entry or one
  INCR. For the general per-IP limit and the per-credential request budgets, which run on every
  request: cheap, and a coarse flood guard can live with a burst at the end of one window and
  the start of the next passing up to twice the limit.
- `SlidingLog`, exact sliding windows: the time of every attempt accepted in the last `window`
  seconds, so that no span of `window` seconds ever holds more than `limit` of them. For what
  guards credentials and mailboxes (sign-in, sign-up, mail per address, failed attempts per
  account), where that burst is exactly what an attacker would try. A refused attempt is not
  recorded: it did not happen. In Redis, a sorted set and one Lua script per attempt (one round
  trip); in memory, a deque per key, swept once a window.

`counters_for(store)` gives the counters that keep the store's sharing. With Redis, each falls
back to its in-process twin while Redis does not answer (app.core.stores.RedisHealth).
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from app.core import clock
from app.core.stores import RedisHealth, SharedStore, redis_client


class WindowCounter(Protocol):
    """Counts hits per key in fixed windows; `hit` adds one to each key and returns the new counts.

    `take_back` undoes one hit of the current window (never below zero); `clear` forgets the key's
    current window.
    """

    async def hit(self, keys: Sequence[str], window: int) -> list[int]: ...

    async def take_back(self, key: str, window: int) -> None: ...

    async def clear(self, key: str, window: int) -> None: ...


class Taken(NamedTuple):
    """The outcome of one attempt against a sliding window."""

    allowed: bool
    used: int  # attempts in the window, this one included when it was allowed
    reset: float  # seconds until the oldest of them leaves the window (a place frees up)

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait before trying again (at least 1)."""
        return max(1, math.ceil(self.reset))


class SlidingLog(Protocol):
    """At most `limit` attempts per key in any `window` seconds (the window is the log's own)."""

    window: float

    async def take(self, key: str, limit: int) -> Taken: ...

    async def give_back(self, key: str) -> None: ...

    async def clear(self, key: str) -> None: ...


# --- in this process -------------------------------------------------------------------------


class LocalCounter:
    """Fixed windows in this process: one dict per window, dropped as soon as the next one starts."""

    def __init__(self) -> None:
        self._window_start = -1
        self._counts: dict[str, int] = {}

    async def hit(self, keys: Sequence[str], window: int) -> list[int]:
        return [self.add(key, window) for key in keys]

    def add(self, key: str, window: int) -> int:
        """`hit` for one key, without a coroutine: the general rate limit's case (see RateLimiter)."""
        start = int(clock.now()) // window
        if start != self._window_start:
            self._window_start, self._counts = start, {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count

    async def take_back(self, key: str, window: int) -> None:
        if int(clock.now()) // window == self._window_start and self._counts.get(key, 0) > 0:
            self._counts[key] -= 1

    async def clear(self, key: str, window: int) -> None:
        if int(clock.now()) // window == self._window_start:
            self._counts.pop(key, None)


class LocalLog:
    """Sliding windows in this process: per key, the times of the attempts of the last window."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._logs: dict[str, deque[float]] = {}
        self._next_sweep = 0.0

    def _log(self, key: str, now: float) -> deque[float]:
        if now >= self._next_sweep:  # once a window: forget keys whose attempts all left it
            horizon = now - self.window
            self._logs = {k: log for k, log in self._logs.items() if log and log[-1] > horizon}
            self._next_sweep = now + self.window
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = deque()
        while log and log[0] <= now - self.window:
            log.popleft()
        return log

    async def take(self, key: str, limit: int) -> Taken:
        now = clock.now()
        log = self._log(key, now)
        allowed = len(log) < limit
        if allowed:
            log.append(now)
        reset = log[0] + self.window - now if log else 0.0
        return Taken(allowed, len(log), reset)

    async def give_back(self, key: str) -> None:
        log = self._log(key, clock.now())
        if log:
            log.pop()

    async def clear(self, key: str) -> None:
        self._logs.pop(key, None)


# --- in Redis --------------------------------------------------------------------------------


class RedisCounter:
    """Fixed windows shared through Redis: one INCR + EXPIRE per key, all keys in one round trip."""

    def __init__(self, store: SharedStore) -> None:
        self._redis = redis_client(store)
        self._prefix = f"{store.redis.namespace}:" if store.redis.namespace else ""

    async def hit(self, keys: Sequence[str], window: int) -> list[int]:
        stamp = int(clock.now()) // window
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                full = f"{self._prefix}{key}:{stamp}"
                pipe.incr(full)
                pipe.expire(full, window)
            replies = await pipe.execute()
        return [int(count) for count in replies[::2]]

    async def take_back(self, key: str, window: int) -> None:
        await self._redis.eval(_TAKE_BACK, 1, f"{self._prefix}{key}:{int(clock.now()) // window}")

    async def clear(self, key: str, window: int) -> None:
        await self._redis.delete(f"{self._prefix}{key}:{int(clock.now()) // window}")


# DECR only a live, positive counter: a DECR of an expired key would create one without expiry.
_TAKE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""

# One attempt against a sliding window kept as a sorted set of attempt times (milliseconds):
# drop what left the window, count, add this attempt if there is room, keep the key as long as
# its newest attempt counts. Returns {allowed, count, oldest time}.
_TAKE = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {allowed, count, oldest[2] or now}
"""


class RedisLog:
    """Sliding windows shared through Redis: a sorted set per key, one script call per attempt."""

    def __init__(self, store: SharedStore, window: float) -> None:
        self.window = window
        self._redis = redis_client(store)
        self._prefix = f"{store.redis.namespace}:" if store.redis.namespace else ""
        self._take = self._redis.register_script(_TAKE)

    async def take(self, key: str, limit: int) -> Taken:
        now = round(clock.now() * 1000)
        window = round(self.window * 1000)
        member = f"{now}-{secrets.token_hex(4)}"  # two attempts in one millisecond are two members
        allowed, count, oldest = await self._take(keys=[self._prefix + key], args=[now, window, limit, member])
        return Taken(bool(allowed), int(count), max(0.0, (float(oldest) + window - now) / 1000))

    async def give_back(self, key: str) -> None:
        await self._redis.zpopmax(self._prefix + key)

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


# --- Redis, with this process standing in while it does not answer ----------------------------


class FallbackCounter:
    """A RedisCounter that counts in this process while Redis does not answer."""

    def __init__(self, shared: RedisCounter, local: LocalCounter, health: RedisHealth) -> None:
        self.shared, self.local, self.health = shared, local, health

    async def hit(self, keys: Sequence[str], window: int) -> list[int]:
        return await self.health.call(lambda: self.shared.hit(keys, window), lambda: self.local.hit(keys, window))

    async def take_back(self, key: str, window: int) -> None:
        await self.health.call(lambda: self.shared.take_back(key, window), lambda: self.local.take_back(key, window))

    async def clear(self, key: str, window: int) -> None:
        await self.health.call(lambda: self.shared.clear(key, window), lambda: self.local.clear(key, window))


class FallbackLog:
    """A RedisLog that counts in this process while Redis does not answer."""

    def __init__(self, shared: RedisLog, local: LocalLog, health: RedisHealth) -> None:
        self.window = shared.window
        self.shared, self.local, self.health = shared, local, health

    async def take(self, key: str, limit: int) -> Taken:
        return await self.health.call(lambda: self.shared.take(key, limit), lambda: self.local.take(key, limit))

    async def give_back(self, key: str) -> None:
        await self.health.call(lambda: self.shared.give_back(key), lambda: self.local.give_back(key))

    async def clear(self, key: str) -> None:
        await self.health.call(lambda: self.shared.clear(key), lambda: self.local.clear(key))


class Counters:
    """Makes the counters that keep a store's sharing: in memory for a MemoryStore, in Redis (with
    the in-process fallback) for the store `app.core.stores.build_store` makes from REDIS_URL."""

    def __init__(self, store: Store) -> None:
        if not isinstance(store, MemoryStore | SharedStore):
            raise TypeError(f"rate limits count in memory or Redis (app.core.stores.build_store), not {store!r}")
        self.store = store

    def window(self) -> WindowCounter | LocalCounter:
        """A fixed-window counter."""
        if isinstance(self.store, SharedStore):
            return FallbackCounter(RedisCounter(self.store), LocalCounter(), self.store.health)
        return LocalCounter()

    def log(self, window: float) -> SlidingLog:
        """A sliding-window log of `window` seconds."""
        if isinstance(self.store, SharedStore):
            return FallbackLog(RedisLog(self.store, window), LocalLog(window), self.store.health)
        return LocalLog(window)
