"""The HTTP side shared by the JSON routes and the HTML views: who is asking, and the session resolver."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.types import Scope
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.credentials import AUTHENTICATOR_STATE_KEY, CALLER_STATE_KEY, Authenticator
from app.auth.guards import RESUME_PARAM
from app.auth.kit import AuthKit
from app.auth.session_control import SessionControl
from app.auth.sessions import Principal, SessionManager
from app.core.errors import Unauthorized
from app.core.events import RequestMeta
from app.core.gate import Header
from app.core.openapi import raises
from app.core.resume import FormStash, StashedForm

# Handler parameters injected by name (keys registered in app.asgi.create_app).
DB = NamedDependency[AsyncSession]
Auth = NamedDependency[AuthKit]
MaybePrincipal = NamedDependency[Principal | None]
CurrentUser = NamedDependency[Principal]
Control = NamedDependency[SessionControl]
Resumed = NamedDependency[StashedForm | None]


# Answers that carry secrets or one-time state: sent with Cache-Control: no-store (see app.core.security).
NO_STORE_PREFIXES = (
    "/api/auth/",
    "/sign-in",
    "/sign-up",
    "/account",
    "/reset-password",
    "/forgot-password",
    "/verify-email",
    "/reauthenticate",
)


def request_meta(request: Request[Any, Any, Any]) -> RequestMeta:
    """Client IP (proxy-aware, see app.core.ratelimit) and user agent of a request."""
    client_ip = request.app.state.client_ip
    trusted = request.cookies.get(request.app.state.auth.gate.trust_cookie_name) or None
    return RequestMeta(
        ip=_address(client_ip(request)),
        user_agent=request.headers.get("user-agent", "")[:512] or None,
        trusted_device=trusted,
    )


def _address(value: str) -> str | None:
    """The client address as stored with sessions and audit rows: an IP address, or None.

    The ASGI server may have taken it from X-Forwarded-For unchecked (uvicorn's --proxy-headers);
    an IPv6 zone ("fe80::1%eth0") is dropped, so the text fits the 45 characters of an address.
    """
    try:
        return str(ipaddress.ip_address(value.split("%", 1)[0]))
    except ValueError:
        return None


def provide_auth(request: Request[Any, Any, Any]) -> AuthKit:
    """Dependency: the app's AuthKit."""
    auth: AuthKit = request.app.state.auth
    return auth


def provide_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """Dependency: the signed-in principal, or None."""
    principal: Principal | None = request.scope.get("user")
    return principal


@raises(Unauthorized)
def provide_required_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the signed-in principal; 401 (JSON) or a redirect to sign-in (HTML) otherwise."""
    principal: Principal | None = request.scope.get("user")
    if principal is None:
        raise Unauthorized()
    return principal


def provide_session_control(request: Request[Any, Any, Any]) -> SessionControl:
    """Dependency: the session list and its revocations."""
    control: SessionControl = request.app.state.session_control
    return control


async def provide_resumed(request: Request[Any, Any, Any]) -> StashedForm | None:
    """Dependency: the form kept while the user re-authenticated (`?resume=<handle>`), once."""
    principal: Principal | None = request.scope.get("user")
    handle = request.query_params.get(RESUME_PARAM)
    if principal is None or not handle:
        return None
    stash: FormStash = request.app.state.form_stash
    return await stash.take(str(principal.session_id), handle)


def wants_token(request: Request[Any, Any, Any]) -> bool:
    """Whether a sign-in answer carries the session token: asked for, or the client already uses one.

    A browser keeps its token in the HttpOnly cookie. A client without cookies asks with the
    `x-return-token: true` header and then sends `Authorization: Bearer <token>`; a bearer
    client whose token is rotated (password change) gets the new one without asking.
    """
    asked = request.headers.get("x-return-token", "").lower() in ("1", "true")
    return asked or request.scope.get("auth") == "bearer"


class SessionResolver:
    """Resolves the session cookie (or a bearer session token) into `request.user`.

    A step of the request gate (app.core.gate), which sends the cookies it returns. Requests
    without a credential cost nothing; with one, a single indexed lookup (or none, with the
    signed cookie cache). A renewed session gets its cookie re-sent.

    A credential of a feature (a header of its own, or a bearer value it claims) is handed to
    that feature's `Authenticator` instead, and the session is then ignored: the request acts
    with that credential's scopes only (see app.auth.credentials).
    """

    def __init__(self, sessions: SessionManager, authenticators: Sequence[Authenticator] = ()) -> None:
        self.sessions = sessions
        self._by_header = {a.header.lower().encode("latin-1"): a for a in authenticators if a.header}
        self._bearer_claims = [(a, a.claims_bearer) for a in authenticators if a.claims_bearer]

    def _credentials(self, scope: Scope) -> tuple[str | None, str | None, bool, tuple[Authenticator, str] | None]:
        cookie_header = ""
        bearer = None
        claimed = None
        for key, value in scope["headers"]:
            if key == b"cookie":
                cookie_header = value.decode("latin-1")
            elif key == b"authorization":
                raw = value.decode("latin-1")
                if raw[:7].lower() == "bearer ":
                    bearer = raw[7:].strip()
            elif key in self._by_header:
                claimed = (self._by_header[key], value.decode("latin-1").strip())
        if bearer:
            for authenticator, claims in self._bearer_claims:
                if claimed is None and claims(bearer):
                    claimed = (authenticator, bearer)
            return bearer, None, True, claimed
        token: str | None = None
        cache: str | None = None
        for part in cookie_header.split(";"):
            name, _, content = part.strip().partition("=")
            if name == self.sessions.cookie_name:
                token = content
            elif name == self.sessions.cache_cookie_name:
                cache = content
        return token, cache, False, claimed

    async def __call__(self, scope: Scope) -> list[Header]:
        token, cache, is_bearer, claimed = self._credentials(scope)
        if claimed is not None:
            authenticator, credential = claimed
            scope["state"][CALLER_STATE_KEY] = await authenticator.authenticate(scope, credential)
            scope["state"][AUTHENTICATOR_STATE_KEY] = authenticator
            scope["user"] = None
            scope["auth"] = authenticator.name
            return []
        principal: Principal | None = None
        cookies: list[Cookie] = []
        if token:
            if cache and self.sessions.auth.cookie_cache:
                principal = self.sessions.read_cache_cookie(cache, token)
            if principal is None:
                principal, renewed = await self.sessions.resolve(token)
                if principal is None and not is_bearer:
                    cookies = self.sessions.clear_cookies()
                elif principal is not None and not is_bearer:
                    if renewed and principal.persistent:
                        cookies.append(self.sessions.cookie(token, True, principal.expires_at))
                    if self.sessions.auth.cookie_cache:
                        cookies.append(self.sessions.cache_cookie(principal, token))
        scope["user"] = principal
        scope["auth"] = "bearer" if is_bearer else ("cookie" if principal else None)
        return [cookie.to_encoded_header() for cookie in cookies]
