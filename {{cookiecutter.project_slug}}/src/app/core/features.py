"""What an optional feature may contribute; `app.asgi` loops over `app.features.ENABLED`.

A feature talks to the core through this object, events and service functions only, so that
removing its folder and its line in `app/features/__init__.py` removes it completely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uuid

    import click
    from litestar.types import ControllerRouterHandler
    from sqlalchemy.sql.elements import ColumnElement
    from sqlmodel.ext.asyncio.session import AsyncSession

    from app.auth.credentials import Authenticator
    from app.auth.second_factor import SecondFactor
    from app.auth.sessions import Principal
    from app.core.events import Listener


@dataclass(frozen=True)
class SessionField:
    """A field a feature adds to every signed-in session; get-session reports it in `session`.

    `column` is a scalar SQL expression over the `session` row, usually a subquery correlated to
    `app.auth.models.Session` (see the organizations feature's `activeOrganizationId`). The session
    lookup's one SELECT reads it together with the session, so it costs no query of its own, it is
    on every request's principal (`Principal.field(name)`), and the cookie cache's snapshot
    carries it (it is then as current as the snapshot). Its value must be JSON: a string, number,
    boolean or null; UUIDs are given as strings.
    """

    name: str
    column: ColumnElement[Any]


@dataclass(frozen=True)
class NavEntry:
    """A link in the account navigation."""

    label: str
    path: str


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to the app."""

    name: str
    route_handlers: Sequence[ControllerRouterHandler] = ()
    templates_dir: Path | None = None
    static_dir: Path | None = None
    migrations_dir: Path | None = None
    listeners: Sequence[tuple[str, Listener]] = ()
    cli_commands: Sequence[click.Command] = ()
    nav: Sequence[NavEntry] = ()
    # Templates included below the sign-in form (e.g. "magic_link/sign_in_option.html").
    sign_in_options: Sequence[str] = ()
    # Called with the Settings at start-up; returns problems in the feature's own settings.
    check_settings: Callable[[Any], list[str]] | None = None
    # Credentials other than the session (API keys ...), see app.auth.credentials.
    authenticators: Sequence[Authenticator] = ()
    # Static URLs every page loads (e.g. "/static/api_keys/api-keys.js"). htmx swaps do not run a
    # page's own <script> tags, so a feature's behaviour is attached from the layout, by delegation.
    scripts: Sequence[str] = ()
    stylesheets: Sequence[str] = ()
    # Second factors the sign-in challenge offers (TOTP, recovery codes, passkeys), see app.auth.second_factor.
    second_factors: Sequence[SecondFactor] = ()
    # Cards included (with context) on the security page, and the data they need, under `security[name]`.
    security_sections: Sequence[str] = ()
    security_context: Callable[[AsyncSession, Principal], Awaitable[dict[str, Any]]] | None = None
    # Called with the Settings and the AuthKit when the app is built; its entries are added to
    # `app.state` (a feature's service, read by its handlers and templates as `request.app.state.<key>`).
    state: Callable[[Any, Any], Mapping[str, Any]] | None = None
    # Exact paths whose POSTs come from another site by design (an identity provider's form_post
    # callback): the origin check skips them, so their handler must change nothing itself.
    cross_site_posts: Sequence[str] = ()
    # Counts a user's ways to sign in that the feature keeps outside the `account` table (passkeys),
    # so that no feature lets the last one go (see AuthKit.sign_in_methods).
    sign_in_methods: Callable[[AsyncSession, uuid.UUID], Awaitable[int]] | None = None
    # Templates included below the re-authentication form (another way to confirm it's you).
    reauth_options: Sequence[str] = ()
    # Functions and values the app's templates may call (e.g. whether an option is switched on).
    template_globals: Mapping[str, Any] = field(default_factory=dict)
    # Templates included in the page header of signed-in pages (e.g. "organizations/header.html").
    header_items: Sequence[str] = ()
    # Fields of every signed-in session, read by the session lookup itself (see SessionField).
    session_fields: Sequence[SessionField] = ()
