from collections.abc import Mapping
from pathlib import Path
from typing import Any

from litestar import Router

from app.auth import AuthKit
from app.core.event_catalogue import THE_USER, EventInfo
from app.core.ui import UI, NavEntry
from app.features.base import Feature, Paths
from app.features.oauth.providers import LABELS
from app.features.oauth.routes import API_HANDLERS
from app.features.oauth.service import ACCOUNT_LINKED, ACCOUNT_UNLINKED, SIGN_IN_REFUSED, OAuthService
from app.features.oauth.settings import OAuthSettings
from app.features.oauth.views import PATH, VIEWS
from app.features.oauth.web import STATE_KEY
from app.settings import Settings

HERE = Path(__file__).resolve().parent

EVENTS = {
    ACCOUNT_LINKED: EventInfo(
        "A provider's account was linked to the user (`provider`; `how`: by the user, on a first sign-in ...)",
        THE_USER,
        "account",
    ),
    ACCOUNT_UNLINKED: EventInfo("The user unlinked a provider's account (`provider`)", THE_USER, "account"),
    SIGN_IN_REFUSED: EventInfo(
        "A provider's answer was refused (`provider`, `reason`: expired, another browser, an unverified email ...)",
        "nobody signed in (the user, when linking)",
        "oauth",
    ),
}


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state (see app.features.oauth.web.service_for)."""
    return {STATE_KEY: OAuthService(kit, settings.feature(OAuthSettings))}


FEATURE = Feature(
    name="oauth",
    routes=[*API_HANDLERS, Router("/", route_handlers=VIEWS, include_in_schema=False)],
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    settings=OAuthSettings,
    setup=setup,
    events=EVENTS,
    # Apple answers with a form_post from its own site.
    paths=Paths(cross_site_posts=[f"/api/auth/callback/{name}" for name in ("apple",)]),
    ui=UI(
        nav=[NavEntry("Sign-in methods", PATH)],
        slots={"sign_in": ["oauth/sign_in_options.html"]},
        stylesheets=["/static/oauth/oauth.css"],
        labels={"oauth": "Social sign-in", **LABELS},  # a session's method, an account's provider id
    ),
)
