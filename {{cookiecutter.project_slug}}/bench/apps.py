"""The apps under test, configured as in production, for in-process calls and for servers.

Production settings (the `__Host-` cookies, HSTS, no unverified sign-in), console mail and
the memory store; the rate limits keep their shipped budgets. Requests come from many client
addresses (bench/asgi.py CLIENTS in-process, X-Forwarded-For through a trusted proxy over
HTTP), so the limiter runs on every request without one client exhausting its budget.
The same values go to servers as environment variables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from typing import Any

from litestar import Litestar

from app.asgi import PARTS, create_app, load_app_settings
from app.settings import GROUPS, Settings
from bench.cases import Context
from bench.data import Dataset

BASE_URL = "https://bench.example.com"
SECRET_KEY = secrets.token_urlsafe(48)  # one per run: servers and in-process apps share it
# Feature settings read from the environment. A per-key limit no run reaches: its cost (a store
# read and write per request) is measured, its 429s are not.
FEATURE_ENVIRONMENT = {"API_KEYS_RATE_LIMIT": "100000"}


def environment(database_url: str, cookie_cache: bool) -> dict[str, str]:
    """The app's settings as environment variables (for uvicorn / granian)."""
    return {
        "APP_ENV": "production",
        "APP_BASE_URL": BASE_URL,
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "MAIL_BACKEND": "console",
        "AUTH_COOKIE_CACHE": "true" if cookie_cache else "false",
        "AUTH_COOKIE_CACHE_MAX_AGE": "3600",
        # wrk is the proxy: it sends each request with another X-Forwarded-For (bench/loadgen.py).
        "APP_TRUSTED_PROXIES": "127.0.0.1",
        **FEATURE_ENVIRONMENT,
    }


def settings(database_url: str, cookie_cache: bool) -> Settings:
    """The same configuration as `environment`, as a Settings object.

    Every field not set here has its shipped default: a developer's .env or environment does
    not leak into the figures.
    """
    kinds: dict[str, Any] = {**GROUPS, **{kind.group: kind for kind in PARTS.settings}}
    groups: dict[str, dict[str, Any]] = {
        name: {key: field.get_default(call_default_factory=True) for key, field in kind.model_fields.items()}
        for name, kind in kinds.items()
    }
    for kind in PARTS.settings:  # FEATURE_ENVIRONMENT, for the features that are on
        prefix = str(kind.model_config.get("env_prefix", ""))
        for variable, value in FEATURE_ENVIRONMENT.items():
            if variable.startswith(prefix) and variable[len(prefix) :].lower() in kind.model_fields:
                groups[kind.group][variable[len(prefix) :].lower()] = value
    groups["app"] |= {"env": "production", "base_url": BASE_URL}
    groups["secrets"] |= {"secret_key": SECRET_KEY}
    groups["database"] |= {"url": database_url}
    groups["redis"] |= {"url": ""}
    groups["mail"] |= {"backend": "console"}
    groups["auth"] |= {"cookie_cache": cookie_cache, "cookie_cache_max_age": 3600}
    return load_app_settings(**groups)


def build(database_url: str, cookie_cache: bool) -> Litestar:
    os.environ.update(FEATURE_ENVIRONMENT)
    return create_app(settings(database_url, cookie_cache))


async def context(app: Litestar, data: Dataset, tokens: Sequence[str]) -> Context:
    """The cases' context: cookie names and, for each token, the signed cache cookie the app would set."""
    sessions = app.state.auth.sessions
    cache_cookies = []
    for token in tokens:
        principal, _ = await sessions.resolve(token)
        if principal is None:
            raise RuntimeError(f"benchmark session {token!r} does not resolve")
        cache_cookies.append(str(sessions.cache_cookie(principal, token).value))
    return Context(
        app=app,
        data=data,
        cookie_name=sessions.cookie_name,
        cache_cookie_name=sessions.cache_cookie_name,
        tokens=list(tokens),
        cache_cookies=cache_cookies,
        features=frozenset(app.state.features),
    )
