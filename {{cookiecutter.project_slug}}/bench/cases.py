"""The hot paths that are timed, one function each, shared by the in-process and HTTP modes.

A case gets the benchmark's `Context` (the app, the data, session tokens) and returns the
request to time (`Request`: which app, path, one or more sets of headers) or `NotAvailable`
with the reason. It may first add what it needs to the database (API keys, say). Adding a
path, such as JWT verification once that feature exists, is one more decorated function here:
both modes, `make bench-compare` and every table pick it up.

Apps a case can address: "bare" (bench/bare.py), "app" (the generated app, cookie cache off),
"app-cached" (the same app with AUTH_COOKIE_CACHE on) and "downstream" (bench/downstream.py, a
service checking the app's JWTs; available once the JWT case has filled `Context.downstream`).
"""

from __future__ import annotations

import base64
import importlib
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from app.core.crypto import hash_token
from app.core.db import utcnow
from bench.asgi import Probe, call
from bench.data import Dataset

Headers = list[tuple[bytes, bytes]]
GET_SESSION = "/api/auth/get-session"
JWT_TOKENS = 32  # JWTs the JWT case rotates through (one per session, each issued by the app)


@dataclass(frozen=True)
class Context:
    """What the cases can use: the app (cookie cache off), the data and session credentials."""

    app: Any  # litestar.Litestar
    data: Dataset
    cookie_name: str
    cache_cookie_name: str
    tokens: Sequence[str]
    cache_cookies: Sequence[str]  # the signed cache cookie of each token, same order
    features: frozenset[str]
    # Filled by the JWT case: the JWKS, issuer and audience the downstream app (bench/downstream.py) needs.
    downstream: dict[str, Any] = field(default_factory=dict)

    def session_cookies(self) -> list[Headers]:
        return [[(b"cookie", f"{self.cookie_name}={t}".encode())] for t in self.tokens]


@dataclass(frozen=True)
class Request:
    """One kind of request, with the header sets it rotates through (many tokens, many keys)."""

    target: str
    path: str
    variants: Sequence[Headers] = field(default_factory=lambda: [[]])
    expect_body: bytes | None = None


@dataclass(frozen=True)
class NotAvailable:
    reason: str


Builder = Callable[[Context], Awaitable[Request | NotAvailable]]


@dataclass(frozen=True)
class Case:
    name: str
    build: Builder
    target: str = ""  # the goal, in words, as the issue states it
    min_ratio: float | None = None  # lower bound of req/s relative to bare, when the goal is one
    uses_db: bool = False  # measured on PostgreSQL too by `make bench-compare`
    what: str = ""


CASES: list[Case] = []


def case(
    name: str, target: str = "", min_ratio: float | None = None, uses_db: bool = False
) -> Callable[[Builder], Builder]:
    """Register a case; the order of registration is the order of the tables."""

    def register(build: Builder) -> Builder:
        CASES.append(Case(name, build, target, min_ratio, uses_db, (build.__doc__ or "").strip()))
        return build

    return register


@case("bare Litestar endpoint", target="the yardstick")
async def bare(_: Context) -> Request:
    """GET / on an app with one handler and no middleware."""
    return Request("bare", "/", expect_body=b'"ok"')


@case("health")
async def health(_: Context) -> Request:
    """GET /health: routing, security headers; rate limit and CSRF exclude it."""
    return Request("app", "/health", expect_body=b'"ok"')


@case("unauthenticated (full stack)", target="≥ 75 % of bare", min_ratio=0.75)
async def anonymous(_: Context) -> Request:
    """get-session without credentials: rate limit, origin check, session, headers."""
    return Request("app", GET_SESSION, expect_body=b"null")


@case("session lookup (DB)", target="≥ 40 % of bare", min_ratio=0.40, uses_db=True)
async def session_db(ctx: Context) -> Request:
    """get-session with a session cookie: one indexed SELECT by token hash."""
    return Request("app", GET_SESSION, ctx.session_cookies(), b'"session"')


@case("session lookup (cookie cache)", target="≥ 65 % of bare", min_ratio=0.65)
async def session_cached(ctx: Context) -> Request:
    """get-session with the session cookie and a valid signed cache cookie: no SQL."""
    variants = [
        [(b"cookie", f"{ctx.cookie_name}={token}; {ctx.cache_cookie_name}={cache}".encode())]
        for token, cache in zip(ctx.tokens, ctx.cache_cookies, strict=True)
    ]
    return Request("app-cached", GET_SESSION, variants, b'"session"')


@case("bearer session token", target="report", uses_db=True)
async def bearer(ctx: Context) -> Request:
    """get-session with `Authorization: Bearer <session token>`: same lookup, no cookie."""
    variants = [[(b"authorization", f"Bearer {token}".encode())] for token in ctx.tokens]
    return Request("app", GET_SESSION, variants, b'"session"')


@case("JWT verification", target="report")
async def jwt(ctx: Context) -> Request | NotAvailable:
    """GET /me on a downstream app checking the app's JWT with the shipped verifier (bench/downstream.py)."""
    if "jwt" not in ctx.features:
        return NotAvailable("n/a: JWTs not enabled (use_jwt)")
    tokens = [
        json.loads(await _get(ctx.app, "/api/auth/token", cookies))["token"]
        for cookies in ctx.session_cookies()[:JWT_TOKENS]
    ]
    payload = tokens[0].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    jwks = json.loads(await _get(ctx.app, "/api/auth/jwks", []))
    ctx.downstream.update(jwks=jwks, issuer=claims["iss"], audience=claims["aud"])
    return Request("downstream", "/me", [[(b"authorization", f"Bearer {t}".encode())] for t in tokens], b'"sub"')


async def _get(app: Any, path: str, headers: Headers) -> bytes:
    """The body of a GET through the app, which must answer 200."""
    answer = await call(Probe(app, path), headers, keep_body=True)
    if answer.status != 200:
        raise RuntimeError(f"GET {path} answered {answer.status}: {bytes(answer.body[:300])!r}")
    return bytes(answer.body)


@case("API key", target="report", uses_db=True)
async def api_key(ctx: Context) -> Request | NotAvailable:
    """GET /api/me with `x-api-key`: one indexed SELECT by key hash, the key's rate limit."""
    if "api_keys" not in ctx.features:
        return NotAvailable("n/a: API keys not enabled (use_api_keys)")
    keys = await _api_keys(ctx.data, len(ctx.tokens))
    return Request("app", "/api/me", [[(b"x-api-key", key.encode())] for key in keys], b'"via"')


async def _api_keys(data: Dataset, count: int) -> list[str]:
    """`count` keys with the `read` scope, one per user (the per-key rate limit is per key)."""
    # Imported by name: the feature's package is absent from projects generated without it.
    keys_module = importlib.import_module("app.features.api_keys.keys")
    api_key_table = importlib.import_module("app.features.api_keys.models").ApiKey.__table__
    prefix: str = keys_module.KEY_PREFIX
    digits = keys_module.KEY_LENGTH - len(prefix) - len("bench")
    keys = [f"{prefix}bench{n:0{digits}d}" for n in range(min(count, len(data.user_ids)))]
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "name": "bench",
            "prefix": prefix,
            "start": key[: keys_module.START_LENGTH],
            "key_hash": hash_token(key),
            "scopes": ["read"],
            "created_at": now,
            "expires_at": None,
            "last_used_at": None,
            "revoked_at": None,
        }
        for key, user_id in zip(keys, data.user_ids, strict=False)
    ]
    async with data.engine.begin() as conn:
        await conn.execute(insert(api_key_table), rows)
    return keys


Built = list[tuple[Case, Request | NotAvailable]]


async def build_all(ctx: Context) -> Built:
    """Every case's request (in registration order), built once per run."""
    return [(c, await c.build(ctx)) for c in CASES]
