"""Rate limits: Litestar's middleware per client IP, and budgets per email address or account.

Every counter lives in the "rate_limit" store: memory for one process, Redis (REDIS_URL) when
several instances must share it. The client IP comes from X-Forwarded-For only when the direct
peer is a configured trusted proxy; otherwise it is the socket's peer address.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store

from app.settings import AppSettings, RateLimitSettings

RATE_LIMIT_STORE = "rate_limit"
RULE_KEY = "rate_limit"  # route handler opt key naming the stricter rule that applies


def client_ip_resolver(settings: AppSettings) -> Callable[[Request[Any, Any, Any]], str]:
    """Build the function giving a request's client IP, honouring only trusted proxies."""
    networks = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    def client_ip(request: Request[Any, Any, Any]) -> str:
        peer = request.client.host if request.client else "unknown"
        if not networks or not trusted(peer):
            return peer
        forwarded = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in forwarded if h]):
            if not trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer
        return peer

    return client_ip


def rate_limit_configs(
    settings: RateLimitSettings, client_ip: Callable[[Request[Any, Any, Any]], str]
) -> list[RateLimitConfig]:
    """The general per-IP limit on every route, and stricter ones for routes that opt in."""
    if not settings.enabled:
        return []

    def rule(name: str, per_minute: int) -> RateLimitConfig:
        async def applies(request: Request[Any, Any, Any]) -> bool:
            return request.method == "POST" and request.route_handler.opt.get(RULE_KEY) == name

        return RateLimitConfig(
            rate_limit=("minute", per_minute),
            identifier_for_request=lambda request: f"{name}:{client_ip(request)}",
            check_throttle_handler=applies,
            store=RATE_LIMIT_STORE,
            exclude=["^/static/", "^/health$"],
        )

    general = RateLimitConfig(
        rate_limit=("minute", settings.general),
        identifier_for_request=lambda request: f"general:{client_ip(request)}",
        store=RATE_LIMIT_STORE,
        exclude=["^/static/", "^/health$"],
    )
    return [general, rule("sign_in", settings.sign_in), rule("sign_up", settings.sign_up)]


class Budget:
    """A fixed-window counter in a store: `hit` spends one unit, `exceeded` reads without spending."""

    def __init__(self, store: Store, name: str, limit: int, window_seconds: int) -> None:
        self.store = store
        self.name = name
        self.limit = limit
        self.window = window_seconds

    def _key(self, subject: str) -> str:
        window_start = int(time.time()) // self.window * self.window
        return f"budget:{self.name}:{subject}:{window_start}"

    def retry_after(self) -> int:
        """Seconds until the current window ends."""
        return self.window - int(time.time()) % self.window

    async def count(self, subject: str) -> int:
        """Units spent in the current window."""
        raw = await self.store.get(self._key(subject))
        return int(raw) if raw else 0

    async def exceeded(self, subject: str) -> bool:
        """True when the subject has used up the window's budget."""
        return await self.count(subject) >= self.limit

    async def hit(self, subject: str) -> bool:
        """Spend one unit; False (and nothing spent) when the budget was already used up."""
        spent = await self.count(subject)
        if spent >= self.limit:
            return False
        await self.store.set(self._key(subject), str(spent + 1), expires_in=self.window)
        return True

    async def reset(self, subject: str) -> None:
        """Forget the subject's spending (after a successful sign-in)."""
        await self.store.delete(self._key(subject))
