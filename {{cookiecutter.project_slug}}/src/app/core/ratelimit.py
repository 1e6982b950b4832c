"""Rate limits per client IP, and budgets per email address, account or credential.

Every request (but /static/, /health and /ready) counts against the general per-IP limit, in
fixed windows of a minute (app.core.counters: a dict entry, or one INCR in Redis). A route that
names a stricter rule (`opt={"rate_limit": "sign_in"}`) counts, whatever its method, against
that rule too, in an exact sliding window: no minute, wherever it starts, lets more than the
rule's limit through. Per-IP rules count an IPv6 client by its /64 (app.core.client_ip). Each
rule is one round trip to Redis when several instances share their counts (REDIS_URL).

Responses carry the IETF draft's RateLimit-Policy and RateLimit fields (`"general";q=600;w=60`
and `"general";r=599;t=42`: quota, window, requests left, seconds until more are allowed) of the
rule with the fewest requests left; a request over a limit gets 429 with Retry-After.
(Litestar's own RateLimitMiddleware keeps every timestamp of the window for every rule and
re-encodes the list on each request: more than half the time of an unauthenticated request.)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from litestar.exceptions import TooManyRequestsException
from litestar.stores.base import Store
from litestar.types import Scope

from app.core import clock
from app.core.client_ip import ScopeClientIP, limit_key
from app.core.counters import Counters, LocalCounter
from app.settings import RateLimitSettings

RATE_LIMIT_STORE = "rate_limit"  # the name of the store the limiter and the budgets count in
RULE_KEY = "rate_limit"  # route handler opt key naming the stricter rule that applies
WINDOW_SECONDS = 60  # every RATE_LIMIT_* limit is per minute
EXCLUDED_PREFIX = "/static/"
EXCLUDED_PATHS = frozenset({"/health", "/ready"})  # probes: a load balancer asks every few seconds

Header = tuple[bytes, bytes]


@dataclass(frozen=True)
class Rule:
    """At most `limit` requests per client IP and window."""

    name: str
    limit: int
    window: int = WINDOW_SECONDS

    def headers(self, left: int, reset: float) -> dict[str, str]:
        """The RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers) with
        `left` requests left and `reset` seconds until more are allowed; Retry-After when none is."""
        seconds = max(1, int(reset + 0.999))
        headers = {"RateLimit-Policy": self._policy, "RateLimit": f'"{self.name}";r={max(left, 0)};t={seconds}'}
        if left < 0:
            headers["Retry-After"] = str(seconds)
        return headers

    def encoded_headers(self, left: int, reset: float) -> list[Header]:
        """The same two fields, ready for the response (the policy encoded once per rule)."""
        seconds = max(1, int(reset + 0.999))
        return [self._encoded_policy, (b"ratelimit", f'"{self.name}";r={max(left, 0)};t={seconds}'.encode())]

    @functools.cached_property
    def _policy(self) -> str:
        return f'"{self.name}";q={self.limit};w={self.window}'

    @functools.cached_property
    def _encoded_policy(self) -> Header:
        return b"ratelimit-policy", self._policy.encode()


def rate_limit_rules(
    settings: RateLimitSettings, extra: Mapping[str, int] | None = None
) -> tuple[Rule, dict[str, Rule]]:
    """The general rule, and the stricter ones by the name routes give in `opt`.

    `extra` adds rules of the app's parts (name -> requests per minute); a name of the core's is refused.
    """
    strict = {"sign_in": Rule("sign_in", settings.sign_in), "sign_up": Rule("sign_up", settings.sign_up)}
    for name, limit in (extra or {}).items():
        if name in strict or name == "general":
            raise ValueError(f"rate limit rule {name!r} is taken")
        strict[name] = Rule(name, limit)
    return Rule("general", settings.general), strict


def _window_reset(now: float, window: int) -> float:
    """Seconds until the fixed window containing `now` ends."""
    return window - now % window


class RateLimiter:
    """Counts each request against its rules: 429 over a limit, the RateLimit-* headers otherwise.

    A step of the request gate (app.core.gate), which adds the headers it returns to the response.
    """

    def __init__(
        self,
        settings: RateLimitSettings,
        client_ip: ScopeClientIP,
        store: Store,
        extra: Mapping[str, int] | None = None,
    ) -> None:
        self.general, self.strict = rate_limit_rules(settings, extra)
        self.client_ip = client_ip
        counters = Counters(store)
        self.counter = counters.window()
        self._local = self.counter if isinstance(self.counter, LocalCounter) else None
        self._logs = {name: counters.log(rule.window) for name, rule in self.strict.items()}
        self._general_key = f"ratelimit:{self.general.name}:"

    async def __call__(self, scope: Scope) -> list[Header]:
        path: str = scope["path"]
        if path in EXCLUDED_PATHS or path.startswith(EXCLUDED_PREFIX):
            return []
        ip = self.client_ip(scope)
        if ":" in ip:  # IPv6: its /64 (an IPv4 address is its own key: no call on the common path)
            ip = limit_key(ip)
        key = self._general_key + ip
        if self._local is not None:  # the common case: a dict increment, no coroutine
            count = self._local.add(key, WINDOW_SECONDS)
        else:
            (count,) = await self.counter.hit([key], WINDOW_SECONDS)
        general = self.general
        left = general.limit - count
        if left < 0:
            raise TooManyRequestsException(headers=general.headers(left, _window_reset(clock.now(), general.window)))
        name = scope["route_handler"].opt.get(RULE_KEY)
        strict = self.strict.get(name) if name is not None else None
        if strict is None:
            return general.encoded_headers(left, _window_reset(clock.now(), general.window))
        taken = await self._logs[strict.name].take(f"ratelimit:{strict.name}:{ip}", strict.limit)
        if not taken.allowed:
            raise TooManyRequestsException(headers=strict.headers(-1, taken.reset))
        strict_left = strict.limit - taken.used
        if strict_left <= left:  # the headers describe the rule with the fewest requests left
            return strict.encoded_headers(strict_left, taken.reset)
        return general.encoded_headers(left, _window_reset(clock.now(), general.window))


class Budget:
    """At most `limit` units per subject (a credential ...) in a fixed window of `window_seconds`.

    For budgets spent on every request, where a dict increment matters (see app.core.counters).
    """

    def __init__(self, store: Store, name: str, limit: int, window_seconds: int) -> None:
        self.counter = Counters(store).window()
        self.name = name
        self.limit = limit
        self.window = window_seconds

    def _key(self, subject: str) -> str:
        return f"budget:{self.name}:{subject}"

    async def spend(self, subject: str) -> int:
        """Spend one unit: 0 when it was within the budget, else the seconds until the window ends."""
        (count,) = await self.counter.hit([self._key(subject)], self.window)
        return 0 if count <= self.limit else max(1, int(_window_reset(clock.now(), self.window) + 0.999))

    async def take_back(self, subject: str) -> None:
        """Return one unit spent in the current window."""
        await self.counter.take_back(self._key(subject), self.window)

    async def reset(self, subject: str) -> None:
        """Forget the subject's spending."""
        await self.counter.clear(self._key(subject), self.window)


class AttemptBudget:
    """At most `limit` attempts per subject (an address, an account) in any `window_seconds`.

    An exact sliding window (see app.core.counters): failed sign-ins of an account and mails to an
    address cannot come twice as fast across the end of a window. Attempts spend their unit
    *before* they run: a burst of attempts made at once (wrong passwords or codes against one
    account) cannot all pass a check that none of them has counted yet. `take_back` returns the
    unit of an attempt that turned out not to count (a right password); `reset` forgets them all
    (a completed sign-in).
    """

    def __init__(self, store: Store, name: str, limit: int, window_seconds: int) -> None:
        self.log = Counters(store).log(window_seconds)
        self.name = name
        self.limit = limit

    def _key(self, subject: str) -> str:
        return f"budget:{self.name}:{subject}"

    async def spend(self, subject: str) -> int:
        """Spend one unit: 0 when there was one left, else the seconds until one is (nothing spent)."""
        taken = await self.log.take(self._key(subject), self.limit)
        return 0 if taken.allowed else taken.retry_after

    async def take_back(self, subject: str) -> None:
        """Return the unit of the latest attempt."""
        await self.log.give_back(self._key(subject))

    async def reset(self, subject: str) -> None:
        """Forget the subject's attempts (after a successful sign-in)."""
        await self.log.clear(self._key(subject))
