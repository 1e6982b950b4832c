"""The HTTP side of API keys: the app's `ApiKeys` service, and the authenticator the session resolver calls.

A key is read from the `x-api-key` header, or from `Authorization: Bearer <key>` when the value
has the shape of a key (see app.features.api_keys.keys). Never from the query string or a
form field: URLs end up in logs, histories and Referer headers.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.types import Scope

from app.auth import Authenticator, Caller, request_meta
from app.core.errors import TooManyAttempts
from app.core.openapi import raises
from app.features.api_keys.keys import looks_like_key
from app.features.api_keys.service import VIA, ApiKeys, InvalidApiKey
from app.features.base import provider

HEADER = "x-api-key"


STATE_KEY = "api_keys"
service_for = provider(STATE_KEY, ApiKeys)


def provide_api_keys(request: Request[Any, Any, Any]) -> ApiKeys:
    """Dependency `api_keys` of the feature's routes."""
    return service_for(request.app)


@raises(InvalidApiKey, TooManyAttempts)
async def authenticate(scope: Scope, key: str) -> Caller:
    """Called by the session resolver (app.auth.web.SessionResolver) for a request that carries a key."""
    app: Litestar = scope["app"]
    return await service_for(app).verify(key, lambda: request_meta(Request(scope)))


async def scope_denied(scope: Scope, caller: Caller, missing: frozenset[str]) -> None:
    """Audit a key refused by a route for lacking scopes (at most once a minute per key)."""
    app: Litestar = scope["app"]
    reason = "scope:" + ",".join(sorted(missing))
    await service_for(app).deny(caller.credential_id, caller.user_id, reason, lambda: request_meta(Request(scope)))


AUTHENTICATOR = Authenticator(VIA, authenticate, header=HEADER, claims_bearer=looks_like_key, scope_denied=scope_denied)
