"""HTTP pieces shared by the JSON routes and the pages: the service, the browser-binding cookie."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from app.features.base import provider
from app.features.oauth.service import OAuthService

BINDING_COOKIE = "oauth_binding"
BINDING_COOKIE_PRODUCTION = "__Host-oauth-binding"


STATE_KEY = "oauth"
service_for = provider(STATE_KEY, OAuthService)


def oauth_service(request: Request[Any, Any, Any]) -> OAuthService:
    """The app's OAuthService (built by the feature's setup)."""
    return service_for(request.app)


def _cookie_name(request: Request[Any, Any, Any]) -> str:
    return BINDING_COOKIE_PRODUCTION if request.app.state.settings.app.is_production else BINDING_COOKIE


def binding(request: Request[Any, Any, Any]) -> str | None:
    """The value that ties an authorization request to this browser (None if it has none yet)."""
    return request.cookies.get(_cookie_name(request))


def binding_cookie(request: Request[Any, Any, Any], value: str) -> Cookie:
    """HttpOnly, SameSite=Lax (sent on the provider's top-level redirect back), short-lived."""
    production = request.app.state.settings.app.is_production
    return Cookie(
        key=_cookie_name(request),
        value=value,
        max_age=oauth_service(request).oauth.state_ttl,
        path="/",
        secure=production,
        httponly=True,
        samesite="lax",
    )
