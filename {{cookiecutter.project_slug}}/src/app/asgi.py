"""`create_app(settings)` builds the Litestar application: the only place that assembles it.

Serve with `uvicorn --factory app.asgi:create_app` (what `make run` does) or `app run`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from litestar import Litestar, Request, Router
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.account_views import ACCOUNT_VIEWS
from app.auth.cli import COMMANDS as AUTH_COMMANDS
from app.auth.credentials import Authenticator, provide_caller
from app.auth.kit import AuthKit
from app.auth.passwords import Passwords, common_passwords
from app.auth.routes import router as auth_api
from app.auth.second_factor import SecondFactor
from app.auth.second_factor_views import SECOND_FACTOR_VIEWS
from app.auth.session_control import SessionControl
from app.auth.session_views import SESSION_VIEWS
from app.auth.sessions import SessionField, SessionManager
from app.auth.views import ENTRANCE_VIEWS
from app.auth.web import (
    NO_STORE_PREFIXES,
    SessionResolver,
    provide_auth,
    provide_principal,
    provide_required_principal,
    provide_resumed,
    provide_session_control,
)
from app.core import audit
from app.core.cli import AppCLIPlugin
from app.core.cli.commands import COMMANDS as CORE_COMMANDS
from app.core.client_ip import client_ip_resolver, scope_client_ip_resolver
from app.core.db import Database
from app.core.errors import EXCEPTION_HANDLERS
from app.core.event_catalogue import CORE, EventCatalogue, EventInfo
from app.core.events import CORE_EVENTS, EventBus, Listener
from app.core.gate import GateSteps, RequestGate
from app.core.health import health, ready
from app.core.mail import Mailer
from app.core.openapi import ErrorResponses, openapi_config
from app.core.ratelimit import RATE_LIMIT_STORE, RateLimiter
from app.core.resume import FormStash
from app.core.security import OriginCheck, csrf_config, security_headers, trusted_origins
from app.core.stores import build_store
from app.core.ui import UI, template_config
from app.features import ENABLED
from app.features.base import Feature
from app.migrations import FOLDERS as MIGRATIONS
from app.settings import FeatureSettings, Settings, SettingsError, load_settings

APP_DIR = Path(__file__).resolve().parent
MAX_BODY_BYTES = 1024 * 1024
RESPONSE_CACHE_STORE = "response_cache"


@dataclass
class Parts:
    """What the enabled features add, gathered once: the one loop over `ENABLED`."""

    routes: list[Any] = field(default_factory=list)
    templates: list[Path] = field(default_factory=lambda: [APP_DIR / "templates", APP_DIR / "auth" / "templates"])
    static: list[Path] = field(default_factory=lambda: [APP_DIR / "static"])
    settings: list[type[FeatureSettings]] = field(default_factory=list)
    setups: list[Callable[[AuthKit, Settings], Mapping[str, Any]]] = field(default_factory=list)
    listeners: list[tuple[str, Listener]] = field(default_factory=list)
    events: list[tuple[str, Mapping[str, EventInfo]]] = field(default_factory=lambda: [(CORE, CORE_EVENTS)])
    commands: list[click.Command] = field(default_factory=lambda: [*CORE_COMMANDS, *AUTH_COMMANDS])
    second_factors: list[SecondFactor] = field(default_factory=list)
    authenticators: list[Authenticator] = field(default_factory=list)
    session_fields: list[SessionField] = field(default_factory=list)
    cross_site_posts: list[str] = field(default_factory=list)
    no_store: list[str] = field(default_factory=lambda: list(NO_STORE_PREFIXES))
    rate_limits: list[Callable[[Settings], Mapping[str, int]]] = field(default_factory=list)
    ui: list[UI] = field(default_factory=list)

    @cached_property
    def merged_ui(self) -> UI:
        """The features' UI slots joined (see app.core.ui.UI)."""
        return UI.merge(self.ui)

    @cached_property
    def catalogue(self) -> EventCatalogue:
        """Every event name the core and the features declare (see app.core.event_catalogue)."""
        return EventCatalogue(self.events)


def gather(features: Sequence[Feature]) -> Parts:
    """What these features add (the app's are `PARTS`, from `app.features.ENABLED`)."""
    parts = Parts()
    for f in features:
        parts.routes += f.routes
        parts.templates += [f.templates] if f.templates else []
        parts.static += [f.static] if f.static else []
        parts.settings += [f.settings] if f.settings else []
        parts.setups += [f.setup] if f.setup else []
        parts.listeners += f.listeners
        parts.events.append((f.name, f.events))
        parts.commands += f.cli
        parts.second_factors += f.second_factors
        parts.authenticators += f.authenticators
        parts.session_fields += f.session_fields
        parts.cross_site_posts += f.paths.cross_site_posts
        parts.no_store += f.paths.no_store
        parts.rate_limits += [f.rate_limits] if f.rate_limits else []
        parts.ui.append(f.ui)
    return parts


PARTS = gather(ENABLED)
TEMPLATE_DIRS = PARTS.templates


def load_app_settings(**overrides: dict[str, Any]) -> Settings:
    """Every settings group, the enabled features' included, validated together (see load_settings)."""
    return load_settings(PARTS.settings, **overrides)


def settings_or_exit() -> Settings:
    """Load settings; on problems print every one of them and exit with status 2 (no traceback)."""
    try:
        return load_app_settings()
    except SettingsError as error:
        print("The configuration is not valid:", file=sys.stderr)  # noqa: T201
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


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


def build_services(settings: Settings, parts: Parts = PARTS) -> Services:
    """The app's services for these settings (see Services)."""
    db = Database(settings.database)
    store = build_store(settings.redis)
    mailer = Mailer(settings.mail, settings.app.name, parts.templates)
    bus = EventBus(parts.catalogue)
    bus.subscribe("*", audit.record)
    for name, listener in parts.listeners:
        bus.subscribe(name, listener)
    sessions = SessionManager(settings, db.engine, db.reader, parts.session_fields)
    auth = AuthKit(settings, sessions, Passwords(settings.auth), bus, mailer, store, db, parts.second_factors)
    rules = {name: limit for rate_limits in parts.rate_limits for name, limit in rate_limits(settings).items()}
    limiter = (
        RateLimiter(settings.rate_limit, scope_client_ip_resolver(settings.app), store, rules)
        if settings.rate_limit.enabled
        else None
    )
    steps = GateSteps(
        limiter,
        OriginCheck(
            trusted_origins(settings),
            explain=settings.app.env == "development",
            exempt=frozenset(parts.cross_site_posts),
        ),
        SessionResolver(sessions, parts.authenticators),
    )
    state: dict[str, Any] = {
        "settings": settings,
        "db": db,
        "auth": auth,
        "session_control": SessionControl(auth, parts.merged_ui.labels),
        "form_stash": FormStash(store),
        "mailer": mailer,
        "client_ip": client_ip_resolver(settings.app),
        "migrations": MIGRATIONS,
        "ui": parts.merged_ui,
        "parts": parts,
        "features": [f.name for f in ENABLED],
    }
    for setup in parts.setups:
        services = setup(auth, settings)
        clash = set(services) & set(state)
        if clash:
            raise RuntimeError(f"a feature's setup returned state keys already taken: {sorted(clash)}")
        state |= services
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
    services = build_services(settings, app.state.parts)
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


def create_app(settings: Settings | None = None, features: Sequence[Feature] | None = None) -> Litestar:
    """Assemble the app from the core and every enabled feature (or the `features` given, in tests)."""
    settings = settings or settings_or_exit()
    parts = PARTS if features is None else gather(features)
    services = build_services(settings, parts)
    common_passwords()  # load the list now rather than on the first sign-up
    static = create_static_files_router(
        path="/static",
        directories=[*parts.static],
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
            *parts.routes,
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
        template_config=template_config(parts.templates, parts.merged_ui.globals),
        before_send=[security_headers(settings, parts.no_store)],
        exception_handlers=EXCEPTION_HANDLERS,
        stores={RATE_LIMIT_STORE: services.store, RESPONSE_CACHE_STORE: MemoryStore()},
        response_cache_config=ResponseCacheConfig(store=RESPONSE_CACHE_STORE),
        state=State(services.state),
        openapi_config=openapi_config(settings.app.name),
        plugins=[
            AppCLIPlugin(parts.commands),
            ErrorResponses(
                unsafe_exempt=parts.cross_site_posts,
                credential_checks=[a.authenticate for a in parts.authenticators],
            ),
        ],
        on_startup=[freeze_startup_objects],
        on_shutdown=[shutdown],
        request_max_body_size=MAX_BODY_BYTES,
        debug=settings.app.debug,
    )
