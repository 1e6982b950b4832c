"""`create_app(settings)` builds the Litestar application: the only place that assembles it.

Serve with `uvicorn --factory app.asgi:create_app` (what `make run` does) or `app run`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.account_views import ACCOUNT_VIEWS
from app.auth.credentials import provide_caller
from app.auth.kit import AuthKit
from app.auth.passwords import Passwords, common_passwords
from app.auth.routes import router as auth_api
from app.auth.second_factor_views import SECOND_FACTOR_VIEWS
from app.auth.session_control import SessionControl
from app.auth.session_views import SESSION_VIEWS
from app.auth.sessions import SessionManager
from app.auth.views import ENTRANCE_VIEWS
from app.auth.web import (
    SessionResolver,
    provide_auth,
    provide_principal,
    provide_required_principal,
    provide_resumed,
    provide_session_control,
)
from app.core import audit
from app.core.cli import AppCLIPlugin
from app.core.client_ip import client_ip_resolver, scope_client_ip_resolver
from app.core.db import Database
from app.core.errors import EXCEPTION_HANDLERS
from app.core.events import EventBus
from app.core.gate import GateSteps, RequestGate
from app.core.health import health, ready
from app.core.mail import Mailer
from app.core.openapi import ErrorResponses, openapi_config
from app.core.ratelimit import RATE_LIMIT_STORE, RateLimiter
from app.core.resume import FormStash
from app.core.security import OriginCheck, csrf_config, security_headers, trusted_origins
from app.core.stores import build_store
from app.core.ui import template_config
from app.features import ENABLED
from app.settings import Settings, SettingsError, load_settings

APP_DIR = Path(__file__).resolve().parent
MAX_BODY_BYTES = 1024 * 1024
TEMPLATE_DIRS = [
    APP_DIR / "templates",
    APP_DIR / "auth" / "templates",
    *(f.templates_dir for f in ENABLED if f.templates_dir),
]
RESPONSE_CACHE_STORE = "response_cache"


def settings_or_exit() -> Settings:
    """Load settings; on problems print every one of them and exit with status 2 (no traceback)."""
    try:
        settings = load_settings()
    except SettingsError as error:
        print("The configuration is not valid:", file=sys.stderr)  # noqa: T201
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None
    problems = [p for f in ENABLED if f.check_settings for p in f.check_settings(settings)]
    if problems:
        raise SystemExit("The configuration is not valid:\n" + "\n".join(f"  - {p}" for p in problems))
    return settings


async def provide_db(request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """Dependency: a database session for the request, rolled back if left uncommitted."""
    async with request.app.state.db.sessions() as session:
        yield session


def freeze_startup_objects() -> None:
    """Leave what startup built out of every later garbage collection (`gc.freeze`).

    Modules, mappers, templates, schemas and the common-password list are some 200,000 objects
    that live as long as the process. A full collection walked all of them: 120-150 ms in which
    the worker answered nothing, every few seconds under load (the PostgreSQL session lookup's
    p99 was 124 ms, 15 ms with them frozen; the template's docs/performance.md). Collections now
    walk only what requests made. Shutdown unfreezes them.
    """
    gc.freeze()


@dataclass(frozen=True)
class Services:
    """Everything the app holds that lives and changes with it, built from the settings.

    The database pool, the shared store (rate limits, budgets, kept forms), the mailer, the
    session manager and the auth rules, the features' services (`app.state`), and the request
    gate's steps. `create_app` builds them once; `renew_services` builds them again for an app
    whose routes are already registered; `close_services` closes them.
    """

    state: dict[str, Any]
    store: Store
    steps: GateSteps


def build_services(settings: Settings) -> Services:
    """The app's services for these settings (see Services)."""
    db = Database(settings.database)
    store = build_store(settings.redis)
    mailer = Mailer(settings.mail, settings.app.name, TEMPLATE_DIRS)
    bus = EventBus()
    bus.subscribe("*", audit.record)
    for feature in ENABLED:
        for name, listener in feature.listeners:
            bus.subscribe(name, listener)
    sessions = SessionManager(settings, db.engine, db.reader, [field for f in ENABLED for field in f.session_fields])
    second_factors = [factor for f in ENABLED for factor in f.second_factors]
    method_counters = [f.sign_in_methods for f in ENABLED if f.sign_in_methods]
    auth = AuthKit(settings, sessions, Passwords(settings.auth), bus, mailer, store, second_factors, method_counters)
    limiter = (
        RateLimiter(settings.rate_limit, scope_client_ip_resolver(settings.app), store)
        if settings.rate_limit.enabled
        else None
    )
    steps = GateSteps(
        limiter,
        OriginCheck(
            trusted_origins(settings),
            explain=settings.app.env == "development",
            exempt=frozenset(path for f in ENABLED for path in f.cross_site_posts),
        ),
        SessionResolver(sessions, [a for f in ENABLED for a in f.authenticators]),
    )
    state: dict[str, Any] = {
        "settings": settings,
        "db": db,
        "auth": auth,
        "session_control": SessionControl(auth),
        "form_stash": FormStash(store),
        "mailer": mailer,
        "client_ip": client_ip_resolver(settings.app),
        "nav": [entry for f in ENABLED for entry in f.nav],
        "sign_in_options": [tpl for f in ENABLED for tpl in f.sign_in_options],
        "reauth_options": [tpl for f in ENABLED for tpl in f.reauth_options],
        "security_sections": [(f.name, tpl) for f in ENABLED for tpl in f.security_sections],
        "security_contexts": [(f.name, f.security_context) for f in ENABLED if f.security_context],
        "scripts": [src for f in ENABLED for src in f.scripts],
        "stylesheets": [href for f in ENABLED for href in f.stylesheets],
        "header_items": [tpl for f in ENABLED for tpl in f.header_items],
        "features": [f.name for f in ENABLED],
        **{key: value for f in ENABLED if f.state for key, value in f.state(settings, auth).items()},
    }
    return Services(state, store, steps)


def renew_services(app: Litestar, settings: Settings) -> None:
    """Give a built app new services (see Services), as if `create_app(settings)` had built it.

    The routes, middleware and templates stay: building those is most of `create_app`'s cost
    (Litestar registers every handler, ~0.3 s for all features), so a test suite renews one app
    per test instead. What registration reads of the settings (APP_* and the secret key: CSRF,
    security headers, the API's title, debug) must not differ from the app's (ValueError
    otherwise); every other group may. Close the old services first (`close_services`); anything
    a handler left in `app.state` goes with them.
    """
    if _registered(settings) != _registered(app.state.settings):
        raise ValueError("renew_services: the APP_* and secret settings must be the app's own")
    services = build_services(settings)
    app.state.clear()
    app.state.update(services.state)
    app.stores.register(RATE_LIMIT_STORE, services.store, allow_override=True)
    app.stores.register(RESPONSE_CACHE_STORE, MemoryStore(), allow_override=True)
    (gate,) = (layer for layer in app.middleware if isinstance(layer, RequestGate))
    gate.renew(services.steps)


def _registered(settings: Settings) -> list[dict[str, Any]]:
    """The settings an app's registration reads (csrf_config, security_headers, the OpenAPI title, debug)."""
    return [settings.app.model_dump(), settings.secrets.model_dump()]


async def close_services(app: Litestar) -> None:
    """Deliver the mails still queued, close the database pool and the shared store's connections."""
    await app.state.mailer.drain()
    await app.state.db.dispose()
    await app.stores.get(RATE_LIMIT_STORE).__aexit__(None, None, None)  # a Redis client's connections


async def shutdown(app: Litestar) -> None:
    """Close the services (see close_services); let what startup froze be collected."""
    await close_services(app)
    gc.unfreeze()  # an app built and dropped in one process (tests, the bench) can then be collected


def create_app(settings: Settings | None = None) -> Litestar:
    """Assemble the app from the core and every enabled feature."""
    settings = settings or settings_or_exit()
    services = build_services(settings)
    common_passwords()  # load the list now rather than on the first sign-up
    static = create_static_files_router(
        path="/static",
        directories=[APP_DIR / "static", *(f.static_dir for f in ENABLED if f.static_dir)],
        include_in_schema=False,
        cache_control=None,
    )
    return Litestar(
        route_handlers=[
            health,
            ready,
            auth_api,
            Router(
                "/",
                route_handlers=[*ENTRANCE_VIEWS, *ACCOUNT_VIEWS, *SESSION_VIEWS, *SECOND_FACTOR_VIEWS],
                include_in_schema=False,
            ),
            static,
            *(handler for f in ENABLED for handler in f.route_handlers),
        ],
        dependencies={
            "db": Provide(provide_db),
            "auth": Provide(provide_auth, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
            "user": Provide(provide_required_principal, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "sessions": Provide(provide_session_control, sync_to_thread=False),
            "resumed": Provide(provide_resumed),
        },
        middleware=[RequestGate(services.steps)],
        csrf_config=csrf_config(settings),
        template_config=template_config(TEMPLATE_DIRS, {k: v for f in ENABLED for k, v in f.template_globals.items()}),
        before_send=[security_headers(settings)],
        exception_handlers=EXCEPTION_HANDLERS,
        stores={RATE_LIMIT_STORE: services.store, RESPONSE_CACHE_STORE: MemoryStore()},
        response_cache_config=ResponseCacheConfig(store=RESPONSE_CACHE_STORE),
        state=State(services.state),
        openapi_config=openapi_config(settings.app.name),
        plugins=[
            AppCLIPlugin(),
            ErrorResponses(
                unsafe_exempt=[path for f in ENABLED for path in f.cross_site_posts],
                credential_checks=[a.authenticate for f in ENABLED for a in f.authenticators],
            ),
        ],
        on_startup=[freeze_startup_objects],
        on_shutdown=[shutdown],
        request_max_body_size=MAX_BODY_BYTES,
        debug=settings.app.debug,
    )
