"""JSON API of the magic link, with Better Auth's paths."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromQuery, JSONBody
from litestar.response import Redirect

from app.auth import DB, Auth, Challenge, MaybePrincipal, challenge_response, request_meta, user_json
from app.core.errors import AccountBanned, InvalidToken, TooManyAttempts, Vetoed
from app.core.openapi import raises
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.features.magic_link.service import service_for

Text = Annotated[str, msgspec.Meta(max_length=4096)]


class MagicLinkRequest(msgspec.Struct):
    email: Text
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")


@post("/api/auth/sign-in/magic-link", opt={"rate_limit": "sign_in"}, status_code=200, tags=["magic-link"])
@raises(TooManyAttempts)
async def request_magic_link(
    request: Request[Any, Any, Any], data: JSONBody[MagicLinkRequest], db: DB, auth: Auth
) -> dict[str, bool]:
    """Email a sign-in link (valid 5 minutes, single use)."""
    target = safe_redirect(data.callback_url, trusted_origins(auth.settings), default="") or None
    await service_for(request.app).request(db, request_meta(request), data.email, target)
    return {"status": True}


@get("/api/auth/magic-link/verify", tags=["magic-link"])
@raises(InvalidToken, AccountBanned, Vetoed)
async def verify_magic_link(
    request: Request[Any, Any, Any],
    db: DB,
    auth: Auth,
    principal: MaybePrincipal,
    token: FromQuery[str] = "",
) -> Response[Any]:
    """Use a link from an API client: sets the session cookie, then redirects to a safe callbackURL.

    A browser sent here by another site (Sec-Fetch-Site: cross-site or same-site) gets the
    confirmation page instead: a link planted elsewhere must not sign the visitor in to the
    planter's account (login CSRF). A link opened from a mail app says "none" and goes through.
    """
    if request.headers.get("sec-fetch-site", "none") not in ("none", "same-origin"):
        query = urlencode({"token": token[:128], "next": request.query_params.get("callbackURL") or ""})
        return Redirect(f"/magic-link/verify?{query}", status_code=303)
    result = await service_for(request.app).sign_in(
        db, request_meta(request), token, replaces=principal.session_id if principal else None
    )
    target = safe_redirect(request.query_params.get("callbackURL"), trusted_origins(auth.settings), default="")
    if isinstance(result, Challenge):
        return challenge_response(request, result, target or None)
    cookie = auth.session_cookie(result)
    if target:
        return Redirect(target, status_code=302, cookies=[cookie])
    return Response({"token": None, "user": user_json(result.user)}, cookies=[cookie])


API_HANDLERS = [request_magic_link, verify_magic_link]
