"""JSON API with Better Auth's paths: sign-in/social, link-social, unlink-account, list-accounts.

The callback itself (`/api/auth/callback/{provider}`) is a browser page, see views.py.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody

from app.auth import DB, Auth, CurrentUser, iso, request_meta
from app.core.errors import SessionNotFresh
from app.core.openapi import raises
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.features.oauth.errors import AccountNotFound, CannotUnlinkLast, OAuthRefused, ProviderNotFound
from app.features.oauth.service import LINK
from app.features.oauth.web import binding, binding_cookie, oauth_service

Text = Annotated[str, msgspec.Meta(max_length=4096)]
Name = Annotated[str, msgspec.Meta(max_length=50)]


class SocialSignIn(msgspec.Struct, forbid_unknown_fields=False):
    provider: Name
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")
    error_callback_url: Text | None = msgspec.field(default=None, name="errorCallbackURL")
    remember_me: bool = msgspec.field(default=True, name="rememberMe")


class LinkSocial(msgspec.Struct, forbid_unknown_fields=False):
    provider: Name
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")


class UnlinkAccount(msgspec.Struct):
    provider_id: Name = msgspec.field(name="providerId")
    account_id: Annotated[str, msgspec.Meta(max_length=255)] | None = msgspec.field(default=None, name="accountId")


def _safe(request: Request[Any, Any, Any], auth: Auth, target: str | None, default: str = "/") -> str:
    return safe_redirect(target, trusted_origins(auth.settings), default=default)


@post("/api/auth/sign-in/social", opt={"rate_limit": "sign_in"}, status_code=200, tags=["oauth"])
@raises(ProviderNotFound, OAuthRefused)
async def sign_in_social(
    request: Request[Any, Any, Any], data: JSONBody[SocialSignIn], db: DB, auth: Auth
) -> Response[dict[str, Any]]:
    """Start a sign-in with a provider: the URL to send the browser to (the binding cookie comes along)."""
    service = oauth_service(request)
    url, browser = await service.start(
        db,
        data.provider,
        binding(request),
        _safe(request, auth, data.callback_url),
        error_redirect_to=_safe(request, auth, data.error_callback_url, default="") or None,
        persistent=data.remember_me,
    )
    return Response({"url": url, "redirect": True}, cookies=[binding_cookie(request, browser)])


@post("/api/auth/link-social", opt={"rate_limit": "sign_in"}, status_code=200, tags=["oauth"])
@raises(SessionNotFresh, ProviderNotFound, OAuthRefused)
async def link_social(
    request: Request[Any, Any, Any], data: JSONBody[LinkSocial], db: DB, auth: Auth, user: CurrentUser
) -> Response[dict[str, Any]]:
    """Start linking a provider to the signed-in user (needs a fresh session)."""
    auth.require_fresh(user)
    service = oauth_service(request)
    url, browser = await service.start(
        db,
        data.provider,
        binding(request),
        _safe(request, auth, data.callback_url, default="/account/connections"),
        intent=LINK,
        user_id=user.user_id,
    )
    return Response({"url": url, "redirect": True}, cookies=[binding_cookie(request, browser)])


@post("/api/auth/unlink-account", status_code=200, tags=["oauth"])
@raises(SessionNotFresh, AccountNotFound, CannotUnlinkLast)
async def unlink_account(
    request: Request[Any, Any, Any], data: JSONBody[UnlinkAccount], db: DB, user: CurrentUser
) -> dict[str, bool]:
    """Remove a linked provider; the last way to sign in stays."""
    await oauth_service(request).unlink(db, request_meta(request), user, data.provider_id, data.account_id)
    return {"status": True}


@get("/api/auth/list-accounts", tags=["oauth"])
async def list_accounts(request: Request[Any, Any, Any], db: DB, user: CurrentUser) -> list[dict[str, Any]]:
    """The user's sign-in methods (no tokens, ever)."""
    rows = await oauth_service(request).linked(db, user.user_id)
    return [
        {
            "id": str(account.id),
            "providerId": account.provider_id,
            "accountId": account.account_id,
            "userId": str(account.user_id),
            "scopes": (link.scope or "").split() if link else [],
            "createdAt": iso(account.created_at),
            "updatedAt": iso(account.updated_at),
        }
        for account, link in rows
    ]


API_HANDLERS = [sign_in_social, link_social, unlink_account, list_accounts]
