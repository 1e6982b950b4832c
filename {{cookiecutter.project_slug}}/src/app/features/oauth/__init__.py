"""OAuth / OpenID Connect sign-in: Google, GitHub, Microsoft, Apple, Discord, GitLab and any OIDC provider.

Providers are switched on at run time by their OAUTH_* client ids and secrets. Built on authlib's
httpx client and joserfc; state, PKCE S256 and nonce on every request; accounts keyed by
(issuer, subject). See docs/oauth.md.
"""

from pathlib import Path
from typing import Any

from litestar import Router

from app.auth.kit import AuthKit
from app.core.features import Feature, NavEntry
from app.features.oauth.routes import API_HANDLERS
from app.features.oauth.service import OAuthService
from app.features.oauth.settings import OAuthSettings, check_settings
from app.features.oauth.views import PATH, VIEWS

HERE = Path(__file__).resolve().parent


def _state(_settings: Any, auth: AuthKit) -> dict[str, Any]:
    return {"oauth": OAuthService(auth, OAuthSettings())}


FEATURE = Feature(
    name="oauth",
    route_handlers=[*API_HANDLERS, Router("/", route_handlers=VIEWS, include_in_schema=False)],
    templates_dir=HERE / "templates",
    static_dir=HERE / "static",
    stylesheets=["/static/oauth/oauth.css"],
    migrations_dir=HERE / "migrations",
    nav=[NavEntry("Sign-in methods", PATH)],
    sign_in_options=["oauth/sign_in_options.html"],
    check_settings=check_settings,
    state=_state,
    cross_site_posts=[f"/api/auth/callback/{name}" for name in ("apple",)],
)
