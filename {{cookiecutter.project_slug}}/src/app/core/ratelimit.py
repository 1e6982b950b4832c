"""Rate limits: fixed-window counters per client IP, and budgets per email address or account.

Every request (but /static/ and /health) counts against the general per-IP limit; POSTs to a
route that names a stricter rule (`opt={"rate_limit": "sign_in"}`) count against that rule too.
Each rule is one counter per client IP and minute: a dict entry in this process, or one
INCR + EXPIRE in Redis (REDIS_URL) when several instances must share it. (Litestar's own
RateLimitMiddleware keeps every timestamp of the window and re-encodes the list on each
request of each rule: more than half the time of an unauthenticated request.) Responses carry
the IETF draft's RateLimit-Policy and RateLimit fields (`"general";q=600;w=60` and
`"general";r=599;t=42`: quota, window, requests left, seconds to the reset); a request over a
limit gets 429 with Retry-After.

The client IP comes from X-Forwarded-For only when the direct peer is a configured trusted
proxy; otherwise it is the socket's peer address.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.types import Scope

from app.settings import AppSettings, RateLimitSettings

RATE_LIMIT_STORE = "rate_limit"  # the name of the store the limiter and the budgets count in
RULE_KEY = "rate_limit"  # route handler opt key naming the stricter rule that applies
WINDOW_SECONDS = 60  # every RATE_LIMIT_* limit is per minute
EXCLUDED_PREFIX = "/static/"
EXCLUDED_PATHS = frozenset({"/health"})

ScopeClientIP = Callable[[Scope], str]


def scope_client_ip_resolver(settings: AppSettings) -> ScopeClientIP:
    """Build the function giving a request's client IP from its ASGI scope, honouring only trusted proxies.

    It runs on every request (the rate limit's key) and, behind a proxy, meets a new address at
    almost every request of a busy site: a dotted quad goes through the C parser (inet_pton
    takes exactly what ipaddress takes, leading zeros refused, and the text is then already
    canonical) and two integer operations per trusted IPv4 network, well under a µs, so it is not
    cached. ipaddress, several µs per address, is left to IPv6 and to what is not an address.
    """
    networks = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
    ipv4 = [(int(n.network_address), int(n.netmask)) for n in networks if n.version == 4]

    @functools.lru_cache(maxsize=1024)
    def classify_other(address: str) -> tuple[bool, str | None]:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False, None
        return any(ip in network for network in networks), str(ip)

    def classify(address: str) -> tuple[bool, str | None]:
        """(a trusted proxy?, the address as ipaddress writes it), or (False, None) for no address."""
        try:
            value = int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")
        except (OSError, ValueError):
            return classify_other(address)
        for network, mask in ipv4:
            if value & mask == network:
                return True, address
        return False, address

    @functools.lru_cache(maxsize=256)
    def is_proxy(peer: str) -> bool:
        """Whether the direct peer is a trusted proxy (there are few peers that are: cached)."""
        return classify(peer)[0]

    def client_ip(scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not networks or not is_proxy(peer):
            return peer
        forwarded: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"x-forwarded-for":
                forwarded = value if forwarded is None else forwarded + b"," + value
        if forwarded is None:
            return peer
        text = forwarded.decode("latin-1")
        # The nearest hop that is not a trusted proxy is the client: read from the right.
        for hop in reversed(text.split(",")) if "," in text else (text,):
            hop = hop.strip()
            if hop:
                trusted, address = classify(hop)
                if not trusted:
                    return address or peer
        return peer

    return client_ip


def client_ip_resolver(settings: AppSettings) -> Callable[[Request[Any, Any, Any]], str]:
    """The same, for a Request (what views and services use)."""
    from_scope = scope_client_ip_resolver(settings)

    def client_ip(request: Request[Any, Any, Any]) -> str:
        return from_scope(request.scope)

    return client_ip


# --- counters ----------------------------------------------------------------------------------


class WindowCounter(Protocol):
    """Counts hits per key in fixed windows; `hit` adds one to each key and returns the new counts.

    `take_back` undoes one hit of the current window (never below zero); `clear` forgets the key's
    current window.
    """

    async def hit(self, keys: Sequence[str], window: int) -> list[int]: ...

    async def take_back(self, key: str, window: int) -> None: ...

    async def clear(self, key: str, window: int) -> None: ...


class LocalCounter:
    """Counters in this process: one dict per window, dropped as soon as the next window starts."""

    def __init__(self) -> None:
        self._window_start = -1
        self._counts: dict[str, int] = {}

    async def hit(self, keys: Sequence[str], window: int) -> list[int]:
        return [self.add(key, window) for key in keys]

    def add(self, key: str, window: int) -> int:
        """`hit` for one key, without a coroutine: the rate limit's common case (see RateLimiter)."""
        start = int(time.time()) // window
        if start != self._window_start:
            self._window_start, self._counts = start, {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count

    async def take_back(self, key: str, window: int) -> None:
        if int(time.time()) // window == self._window_start and self._counts.get(key, 0) > 0:
            self._counts[key] -= 1

    async def clear(self, key: str, window: int) -> None:
        if int(time.time()) // window == self._window_start:
            self._counts.pop(key, None)


class RedisCounter:
    """Counters shared through Redis: one INCR + EXPIRE per key, all keys in one round trip.

    Litestar's RedisStore has no atomic increment, so its client is used directly; keys live
    under the store's namespace like everything else it holds.
    """

    def __init__(self, store: RedisStore) -> None:
        self._redis = store._redis  # no public accessor: see the class docstring
        self._prefix = f"{store.namespace}:" if store.namespace else ""

    async def hit(self, keys: Sequence[str], window: int) -> list[int]:
        stamp = int(time.time()) // window
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                full = f"{self._prefix}{key}:{stamp}"
                pipe.incr(full)
                pipe.expire(full, window)
            replies = await pipe.execute()
        return [int(count) for count in replies[::2]]

    async def take_back(self, key: str, window: int) -> None:
        await self._redis.eval(_TAKE_BACK, 1, f"{self._prefix}{key}:{int(time.time()) // window}")

    async def clear(self, key: str, window: int) -> None:
        await self._redis.delete(f"{self._prefix}{key}:{int(time.time()) // window}")


# DECR only a live, positive counter: a DECR of an expired key would create one without expiry.
_TAKE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class StoreCounter:
    """Counters in any other Litestar store: a read and a write per key (not atomic across instances)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def hit(self, keys: Sequence[str], window: int) -> list[int]:
        stamp = int(time.time()) // window
        counts = []
        for key in keys:
            full = f"{key}:{stamp}"
            raw = await self._store.get(full)
            count = (int(raw) if raw else 0) + 1
            await self._store.set(full, str(count), expires_in=window)
            counts.append(count)
        return counts

    async def take_back(self, key: str, window: int) -> None:
        full = f"{key}:{int(time.time()) // window}"
        raw = await self._store.get(full)
        if raw and int(raw) > 0:
            await self._store.set(full, str(int(raw) - 1), expires_in=window)

    async def clear(self, key: str, window: int) -> None:
        await self._store.delete(f"{key}:{int(time.time()) // window}")


def counter_for(store: Store) -> WindowCounter:
    """The fastest counter that keeps the store's sharing: local for memory, INCR for Redis."""
    if isinstance(store, MemoryStore):
        return LocalCounter()
    if isinstance(store, RedisStore):
        return RedisCounter(store)
    return StoreCounter(store)


# --- the limiter ---------------------------------------------------------------------------------

Header = tuple[bytes, bytes]


@dataclass(frozen=True)
class Rule:
    """At most `limit` requests per client IP and window."""

    name: str
    limit: int
    window: int = WINDOW_SECONDS

    def headers(self, count: int, now: float) -> dict[str, str]:
        """The RateLimit-Policy and RateLimit fields after `count` requests in the current window
        (draft-ietf-httpapi-ratelimit-headers), and Retry-After once the limit is passed."""
        reset = self.window - int(now) % self.window
        headers = {
            "RateLimit-Policy": self._policy,
            "RateLimit": f'"{self.name}";r={max(self.limit - count, 0)};t={reset}',
        }
        if count > self.limit:
            headers["Retry-After"] = str(reset)
        return headers

    def encoded_headers(self, count: int, now: float) -> list[Header]:
        """The same two fields, ready for the response (the policy encoded once per rule)."""
        reset = self.window - int(now) % self.window
        return [
            self._encoded_policy,
            (b"ratelimit", f'"{self.name}";r={max(self.limit - count, 0)};t={reset}'.encode()),
        ]

    @functools.cached_property
    def _policy(self) -> str:
        return f'"{self.name}";q={self.limit};w={self.window}'

    @functools.cached_property
    def _encoded_policy(self) -> Header:
        return b"ratelimit-policy", self._policy.encode()


def rate_limit_rules(settings: RateLimitSettings) -> tuple[Rule, dict[str, Rule]]:
    """The general rule, and the stricter ones by the name routes give in `opt`."""
    strict = {"sign_in": Rule("sign_in", settings.sign_in), "sign_up": Rule("sign_up", settings.sign_up)}
    return Rule("general", settings.general), strict


class RateLimiter:
    """Counts each request against its rules: 429 over a limit, the RateLimit-* headers otherwise.

    A step of the request gate (app.core.gate), which adds the headers it returns to the response.
    When two rules apply (a sign-in POST), the headers describe the one with the fewest requests left.
    """

    def __init__(self, settings: RateLimitSettings, client_ip: ScopeClientIP, store: Store) -> None:
        self.general, self.strict = rate_limit_rules(settings)
        self.client_ip = client_ip
        self.counter = counter_for(store)
        self._local = self.counter if isinstance(self.counter, LocalCounter) else None
        self._general_key = f"ratelimit:{self.general.name}:"

    def _strict_rule(self, scope: Scope) -> Rule | None:
        if scope.get("method") != "POST":
            return None
        return self.strict.get(str(scope["route_handler"].opt.get(RULE_KEY)))

    async def __call__(self, scope: Scope) -> list[Header]:
        path: str = scope["path"]
        if path in EXCLUDED_PATHS or path.startswith(EXCLUDED_PREFIX):
            return []
        ip = self.client_ip(scope)
        strict = self._strict_rule(scope)
        if strict is None:  # the common case: one rule, one counter
            key = self._general_key + ip
            if self._local is not None:
                count = self._local.add(key, WINDOW_SECONDS)
            else:
                (count,) = await self.counter.hit([key], WINDOW_SECONDS)
            rule = self.general
            if count > rule.limit:
                raise TooManyRequestsException(headers=rule.headers(count, time.time()))
            return rule.encoded_headers(count, time.time())
        rules = [self.general, strict]
        counts = await self.counter.hit([f"ratelimit:{r.name}:{ip}" for r in rules], WINDOW_SECONDS)
        now = time.time()
        for rule, count in zip(rules, counts, strict=True):
            if count > rule.limit:
                raise TooManyRequestsException(headers=rule.headers(count, now))
        rule, count = min(zip(rules, counts, strict=True), key=lambda pair: pair[0].limit - pair[1])
        return rule.encoded_headers(count, now)


class Budget:
    """At most `limit` units per subject (an address, an account, a key) in a fixed window.

    Counted like the rate limits (`counter_for`: a dict in this process, one INCR with Redis), so
    that a unit is spent atomically. Attempts spend their unit *before* they run: a burst of
    attempts made at once (wrong passwords or codes against one account) cannot all pass a check
    that none of them has counted yet. `take_back` returns the unit of an attempt that turned out
    not to count (a right password); `reset` forgets the window (a completed sign-in).
    """

    def __init__(self, store: Store, name: str, limit: int, window_seconds: int) -> None:
        self.counter = counter_for(store)
        self.name = name
        self.limit = limit
        self.window = window_seconds

    def _key(self, subject: str) -> str:
        return f"budget:{self.name}:{subject}"

    def retry_after(self) -> int:
        """Seconds until the current window ends."""
        return self.window - int(time.time()) % self.window

    async def spend(self, subject: str) -> bool:
        """Spend one unit; False when the window's budget was already used up."""
        (count,) = await self.counter.hit([self._key(subject)], self.window)
        return count <= self.limit

    async def take_back(self, subject: str) -> None:
        """Return one unit spent in the current window."""
        await self.counter.take_back(self._key(subject), self.window)

    async def reset(self, subject: str) -> None:
        """Forget the subject's spending (after a successful sign-in)."""
        await self.counter.clear(self._key(subject), self.window)
