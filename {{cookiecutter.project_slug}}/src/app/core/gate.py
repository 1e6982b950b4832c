"""The request gate: one ASGI layer for what every routed request passes before its handler.

In order: the rate limit (app.core.ratelimit.RateLimiter), the origin check of unsafe requests
(app.core.security.OriginCheck), then the credentials (the session or a feature's credential:
app.auth.web.SessionResolver). They were three Litestar middlewares; one plain layer costs a
fraction of that, as each `ASGIMiddleware` re-checked its scopes, exclusions and the handler's
`opt` on every request and wrapped `send` once more. An unauthenticated request spends most
of its time past routing here (`make bench` measures it).

A step adds response headers by returning them: the RateLimit headers, a renewed session
cookie. The gate leaves them in the request's state and the app's response-headers hook
(app.core.security.security_headers, which runs for every answer anyway) adds them: wrapping
`send` once more cost more than the rest of the gate on an unauthenticated request (`make
bench`, granian). A cookie the handler sets itself wins over a step's cookie of the same name
(signing out clears the cookie a renewal would otherwise re-send). Static files and the probes
(/health, /ready) skip the gate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send

Header = tuple[bytes, bytes]
Step = Callable[[Scope], Awaitable[list[Header]]]
Check = Callable[[Scope], None]
SKIPPED_PREFIX = "/static/"
# Probes: no rate limit, no credentials (a load balancer's /ready must not hang on a session lookup).
SKIPPED_PATHS = frozenset({"/health", "/ready"})
NAME_MAX = 255  # bytes in a file name on Linux; characters here, checked only on static paths
STEP_HEADERS_KEY = "gate_headers"  # scope["state"] key: (headers, cookies) the steps returned


@dataclass(slots=True)
class GateSteps:
    """The gate's three steps, in order."""

    limiter: Step | None  # None when rate limits are off
    origin_check: Check
    credentials: Step


class RequestGate:
    """A Litestar middleware factory: `middleware=[RequestGate(GateSteps(limiter, origin_check, credentials))]`."""

    def __init__(self, steps: GateSteps) -> None:
        self.steps = steps

    def renew(self, steps: GateSteps) -> None:
        """Use these steps from the next request on (the app's services were rebuilt)."""
        self.steps.limiter, self.steps.origin_check, self.steps.credentials = (
            steps.limiter,
            steps.origin_check,
            steps.credentials,
        )

    def __call__(self, app: ASGIApp) -> ASGIApp:
        steps = self.steps

        async def gate(scope: Scope, receive: Receive, send: Send) -> None:
            path = scope["path"]
            if scope["type"] != ScopeType.HTTP or path.startswith(SKIPPED_PREFIX) or path in SKIPPED_PATHS:
                if not _servable(path):
                    raise NotFoundException()
                await app(scope, receive, send)
                return
            limiter = steps.limiter
            added = await limiter(scope) if limiter is not None else []
            steps.origin_check(scope)
            cookies = await steps.credentials(scope)
            if added or cookies:
                scope["state"][STEP_HEADERS_KEY] = (added, cookies)
            await app(scope, receive, send)

        return gate


def _servable(path: str) -> bool:
    """False for a path no file can have (a NUL, a name over 255 characters), which the static
    files router would answer with a 500 (ValueError: embedded null byte; ENAMETOOLONG)."""
    return "\x00" not in path and all(len(part) <= NAME_MAX for part in path.split("/"))


def step_headers(scope: Scope, own: list[Header]) -> tuple[list[Header], bool]:
    """The headers the gate's steps returned for this request, to add to a response whose headers
    are `own`, and whether they set a cookie. A cookie the handler set itself wins over a step's."""
    step: tuple[list[Header], list[Header]] | None = scope["state"].get(STEP_HEADERS_KEY)
    if step is None:
        return [], False
    headers, cookies = step
    if not cookies:
        return headers, False
    taken = {value.split(b"=", 1)[0] for name, value in own if name.lower() == b"set-cookie"}
    kept = [cookie for cookie in cookies if cookie[1].split(b"=", 1)[0] not in taken]
    return [*headers, *kept], bool(kept)
