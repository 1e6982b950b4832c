"""The request gate's response headers (app.core.gate): added by the app's response-headers hook."""

from __future__ import annotations

import re
from typing import Any

from litestar import get

from app.core.gate import STEP_HEADERS_KEY, step_headers
from tests.conftest import AppFactory
from tests.core.test_rate_limits import client_from

LIMIT = (b"ratelimit", b'"general";r=9;t=30')
RENEWED = (b"set-cookie", b"session=new; Path=/; HttpOnly")
CACHE = (b"set-cookie", b"session_cache=abc; Path=/; HttpOnly")


def scope_with(headers: list[tuple[bytes, bytes]] | None, cookies: list[tuple[bytes, bytes]] | None) -> Any:
    state = {} if headers is None else {STEP_HEADERS_KEY: (headers, cookies or [])}
    return {"type": "http", "state": state}


def test_a_request_the_steps_added_nothing_to_gets_nothing() -> None:
    assert step_headers(scope_with(None, None), [(b"content-type", b"text/html")]) == ([], False)


def test_the_steps_headers_and_cookies_are_added() -> None:
    assert step_headers(scope_with([LIMIT], []), []) == ([LIMIT], False)
    assert step_headers(scope_with([LIMIT], [RENEWED, CACHE]), []) == ([LIMIT, RENEWED, CACHE], True)


def test_a_cookie_the_handler_set_wins_over_the_steps_one() -> None:
    cleared = (b"Set-Cookie", b'session=""; Max-Age=0; Path=/')
    assert step_headers(scope_with([LIMIT], [RENEWED, CACHE]), [cleared]) == ([LIMIT, CACHE], True)
    both = [cleared, (b"set-cookie", b'session_cache=""; Max-Age=0; Path=/')]
    assert step_headers(scope_with([LIMIT], [RENEWED, CACHE]), both) == ([LIMIT], False)


async def test_a_cookie_from_the_steps_makes_any_answer_no_store(make_app: AppFactory) -> None:
    app = make_app()

    @get("/probe/plain", sync_to_thread=False)
    def plain() -> str:
        return "a page outside the auth paths, cacheable by its own headers"

    app.register(plain)
    async with client_from(app, "203.0.113.41") as client:
        client.cookies.set("csrftoken", "a" * 64)  # so that Litestar's CSRF middleware sets no cookie of its own
        plain_answer = await client.get("/probe/plain")
        assert "set-cookie" not in plain_answer.headers and "cache-control" not in plain_answer.headers
        client.cookies.set("session", "no-such-session")
        answer = await client.get("/probe/plain")
        # the session resolver clears the dead cookie: a shared cache must not keep that answer
        cookies = answer.headers.get_list("set-cookie")
        assert any(c.startswith('session=""') for c in cookies) and not any(c.startswith("csrftoken") for c in cookies)
        assert answer.headers["cache-control"] == "no-store"


async def test_error_answers_carry_the_steps_headers_too(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"general": 50})
    async with client_from(app, "203.0.113.40") as client:
        client.cookies.set("session", "no-such-session")
        refused = await client.get("/api/auth/list-sessions")
        assert refused.status_code == 401
        assert re.fullmatch(r'"general";r=49;t=\d+', refused.headers["ratelimit"])
        # the session resolver's answer to a dead session cookie: clear it, even on an error page
        assert any(c.startswith('session=""') for c in refused.headers.get_list("set-cookie"))
        assert refused.headers["cache-control"] == "no-store"
        unrouted = await client.get("/api/auth/no-such-route")
        assert unrouted.status_code == 404
        assert "ratelimit" not in unrouted.headers  # refused by routing, before the gate
        assert unrouted.headers["x-content-type-options"] == "nosniff"  # but the security headers are there
