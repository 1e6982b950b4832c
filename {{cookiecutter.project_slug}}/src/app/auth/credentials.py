"""Credentials other than the session (keys for scripts, say): how features plug them in, and scopes.

A feature contributes an `Authenticator` (see `Feature.authenticators`) naming the header that
carries its credential and the `Authorization: Bearer` values that are its own. The session
resolver calls it only for requests carrying such a credential, so cookie and anonymous
requests cost nothing more. It answers with a `Caller` holding the credential's scopes, or
raises an `AppError` to refuse the request (401 for a revoked key, 429 over its rate limit ...).

Such a caller never becomes `request.user`: the account pages, the auth API and every
guard written for sessions keep seeing an anonymous request, so a key can do nothing a route
did not explicitly allow. A route accepts keys by asking for the `caller` dependency (a `Caller`:
the signed-in session or the credential) and by requiring the scopes it needs with the
`require_scope` guard; a session passes every scope check, as it acts with all its user's rights.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard, Scope

from app.auth.sessions import Principal
from app.core.errors import AppError, Unauthorized
from app.core.openapi import raises

CALLER_STATE_KEY = "caller"  # where the session resolver puts a credential's Caller: scope["state"]
AUTHENTICATOR_STATE_KEY = "authenticator"  # ... and the Authenticator that made it


class InsufficientScope(AppError):
    code = "INSUFFICIENT_SCOPE"
    status_code = 403
    default_message = "This credential does not allow that request."


@dataclass(frozen=True)
class Caller:
    """Who calls a route that accepts credentials: a signed-in session, or a user through a credential."""

    user_id: uuid.UUID
    email: str
    name: str
    via: str  # "session", or the authenticator's name (e.g. "script-key")
    credential_id: uuid.UUID  # the session's id, or the credential's (e.g. a key's)
    scopes: frozenset[str] | None  # None for a session: every right of its user

    @classmethod
    def of_session(cls, principal: Principal) -> Caller:
        """The caller for a signed-in session."""
        return cls(principal.user_id, principal.email, principal.name, "session", principal.session_id, None)

    def allows(self, scopes: frozenset[str]) -> bool:
        """True when the caller holds every one of `scopes` (a session holds them all)."""
        return self.scopes is None or scopes <= self.scopes


CurrentCaller = NamedDependency[Caller]


@dataclass(frozen=True)
class Authenticator:
    """A credential a feature adds, tried by the session resolver when a request carries it.

    `authenticate(scope, credential)` returns the caller (with its scopes) or raises an `AppError` (never
    returns None: a credential that was sent and is not valid is refused, not ignored). It runs
    on every such request: keep it to one indexed lookup, and cache nothing that could outlive
    a revocation. `claims_bearer` must never accept a session token (the core's tokens are 43
    characters of URL-safe base64): give credentials a prefix and another length.
    """

    name: str
    authenticate: Callable[[Scope, str], Awaitable[Caller]]
    header: str | None = None
    claims_bearer: Callable[[str], bool] | None = None
    # Called when a route refuses the caller for lacking scopes (the missing ones), to audit it.
    scope_denied: Callable[[Scope, Caller, frozenset[str]], Awaitable[None]] | None = None


def current_caller(scope: Scope) -> Caller | None:
    """The caller of a request: its session, or the credential that authenticated it, or None."""
    principal: Principal | None = scope.get("user")
    if principal is not None:
        return Caller.of_session(principal)
    caller: Caller | None = scope["state"].get(CALLER_STATE_KEY)
    return caller


@raises(Unauthorized)
def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    """Dependency `caller`: the signed-in session or the credential; 401 otherwise."""
    caller = current_caller(request.scope)
    if caller is None:
        raise Unauthorized()
    return caller


def require_scope(*scopes: str) -> Guard:
    """A guard: a session passes; a scoped credential needs every one of `scopes`."""
    needed = frozenset(scopes)

    @raises(Unauthorized, InsufficientScope)
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        caller = current_caller(connection.scope)
        if caller is None:
            raise Unauthorized()
        if not caller.allows(needed):
            missing = needed - (caller.scopes or frozenset())
            authenticator: Authenticator | None = connection.scope["state"].get(AUTHENTICATOR_STATE_KEY)
            if authenticator is not None and authenticator.scope_denied is not None:
                await authenticator.scope_denied(connection.scope, caller, missing)
            raise InsufficientScope(f"This credential lacks the scope: {', '.join(sorted(missing))}.")

    return guard
