"""HTTP pieces shared by the JSON routes and the pages: the service, the browser-binding cookie."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from app.features.base import provider
from app.features.oauth.service import OAuthService

BINDING_COOKIE = "oauth-binding"  # `__Host-oauth-binding` in production (see app.core.cookies)


STATE_KEY = "oauth"
service_for = provider(STATE_KEY, OAuthService)


def oauth_service(request: Request[Any, Any, Any]) -> OAuthService:
    """The app's OAuthService (built by the feature's setup)."""
    return service_for(request.app)


def binding(request: Request[Any, Any, Any]) -> str | None:
    """The value that ties an authorization request to this browser (None if it has none yet)."""
    return request.cookies.get(oauth_service(request).auth.cookies.name(BINDING_COOKIE))


def binding_cookie(request: Request[Any, Any, Any], value: str) -> Cookie:
    """HttpOnly, SameSite=Lax (sent on the provider's top-level redirect back), short-lived."""
    service = oauth_service(request)
    return service.auth.cookies.make(BINDING_COOKIE, value, max_age=service.oauth.state_ttl)
