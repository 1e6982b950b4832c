"""The plugin interface: everything one optional feature adds to the app.

`app.asgi` loops over `app.features.ENABLED` and reads these fields, nothing else. A feature talks
to the auth core through the kit its `setup` receives (`app.auth.AuthKit`), events and the
names `app.auth` exports; never through another feature. What one feature needs that no other
does stays in that feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from litestar import Litestar

from app.core.ui import UI

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler

    from app.auth import Authenticator, AuthKit, SecondFactor, SessionField
    from app.core.event_catalogue import EventInfo
    from app.core.events import Listener
    from app.settings import FeatureSettings, Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Paths:
    """Rules the request gate applies to some of the feature's paths."""

    # Exact paths whose POSTs come from another site by design (an identity provider's form_post
    # callback): the origin check skips them, so their handler must change nothing by itself.
    cross_site_posts: Sequence[str] = ()
    # Path prefixes whose answers carry secrets or one-time state: sent with Cache-Control: no-store.
    no_store: Sequence[str] = ()


@dataclass(frozen=True)
class Feature:
    """One optional feature, as `app.asgi` assembles it."""

    name: str
    routes: Sequence[ControllerRouterHandler] = ()
    templates: Path | None = None
    static: Path | None = None
    migrations: Path | None = None
    # Its settings class (own env prefix), loaded into `Settings` and validated with every other
    # group at start-up and by `app check`; read with `settings.feature(TheClass)`.
    settings: type[FeatureSettings] | None = None
    # Called once per built app with the kit and the settings; what it returns goes into
    # `app.state` under the keys given (the feature's services, read by its handlers).
    setup: Callable[[AuthKit, Settings], Mapping[str, Any]] | None = None
    listeners: Sequence[tuple[str, Listener]] = ()
    # Every event name it records, with what it means: the app's event catalogue (see
    # app.core.event_catalogue); recording a name that is not declared here raises.
    events: Mapping[str, EventInfo] = field(default_factory=dict)
    cli: Sequence[click.Command] = ()
    # Second factors the sign-in challenge offers (see app.auth.SecondFactor).
    second_factors: Sequence[SecondFactor] = ()
    # Credentials other than the session (keys for scripts ...), see app.auth.Authenticator.
    authenticators: Sequence[Authenticator] = ()
    # Fields of every signed-in session, read by the session lookup itself (see app.auth.SessionField).
    session_fields: Sequence[SessionField] = ()
    paths: Paths = field(default_factory=Paths)
    # Rate-limit rules its routes name in `opt={"rate_limit": name}`: name -> requests per minute
    # and client IP, read from the settings (counted as the core's sign_in and sign_up rules are).
    rate_limits: Callable[[Settings], Mapping[str, int]] | None = None
    ui: UI = field(default_factory=UI)


def provider(key: str, kind: type[T]) -> Callable[[Litestar], T]:
    """How a feature reads a service its `setup` returned under `key`: `get = provider(...)`, then `get(app)`.

    The one way features keep services: built once per app by `setup`, never per request, never in
    a module global.
    """

    def get(app: Litestar) -> T:
        service = app.state[key]
        assert isinstance(service, kind), f"app.state[{key!r}] is not a {kind.__name__}"
        return service

    get.__doc__ = f"The app's {kind.__name__} (app.state[{key!r}], built by the feature's setup)."
    return get
