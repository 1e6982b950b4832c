"""What an optional feature may contribute; `app.asgi` loops over `app.features.ENABLED`.

A feature talks to the core through this object, events and service functions only, so that
removing its folder and its line in `app/features/__init__.py` removes it completely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler
    from sqlmodel.ext.asyncio.session import AsyncSession

    from app.auth.credentials import Authenticator
    from app.auth.sessions import Principal
    from app.core.events import Listener


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
    # Templates included in the page header of signed-in pages (e.g. "organizations/header.html").
    header_items: Sequence[str] = ()
    # Called by `GET /api/auth/get-session` for a signed-in caller; the fields are added to `session`.
    session_extras: Sequence[Callable[[AsyncSession, Principal], Awaitable[dict[str, Any]]]] = ()
