"""HTML pages of the magic link: ask for a link, and confirm the sign-in from it.

The emailed link opens a confirmation page and the sign-in happens on its button (a POST), so
a mail scanner that follows links cannot use the link up or sign itself in.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromQuery
from litestar.response import Template

from app.auth import DB, Auth, Challenge, MaybePrincipal, challenge_response, request_meta
from app.core.errors import AppError, InvalidToken
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.core.ui import form_data, form_error, form_error_status, page, redirect
from app.features.magic_link.service import service_for


@get("/magic-link")
async def magic_link_page(request: Request[Any, Any, Any], auth: Auth) -> Template:
    """Ask for the address to send a sign-in link to."""
    target = safe_redirect(request.query_params.get("next"), trusted_origins(auth.settings), default="/")
    return page(request, "magic_link/request.html", next=target)


@post("/magic-link", opt={"rate_limit": "sign_in"})
async def magic_link_submit(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Template:
    """Send the link; the page says the same whether or not the address has an account."""
    form = await form_data(request, ["email", "next"])
    target = safe_redirect(form["next"], trusted_origins(auth.settings), default="/")
    try:
        await service_for(request.app).request(
            db, request_meta(request), form["email"], target if target != "/" else None
        )
    except AppError as error:
        context = form_error(error, form)  # the only field it can name is the address
        return page(request, "magic_link/request.html", status_code=form_error_status(error), **context, next=target)
    return page(request, "magic_link/request.html", sent=True, form=form, next=target)


@get("/magic-link/verify")
async def magic_link_confirm(request: Request[Any, Any, Any], auth: Auth, token: FromQuery[str] = "") -> Template:
    """The page behind the emailed link: one button to finish signing in."""
    target = safe_redirect(request.query_params.get("next"), trusted_origins(auth.settings), default="/")
    return page(request, "magic_link/confirm.html", token=token[:128], next=target)


@post("/magic-link/verify", opt={"rate_limit": "sign_in"})
async def magic_link_sign_in(request: Request[Any, Any, Any], db: DB, auth: Auth, principal: MaybePrincipal) -> Any:
    """Use the link up and sign in."""
    form = await form_data(request, ["token", "next"])
    target = safe_redirect(form["next"], trusted_origins(auth.settings), default="/")
    try:
        result = await service_for(request.app).sign_in(
            db, request_meta(request), form["token"], replaces=principal.session_id if principal else None
        )
    except InvalidToken as error:
        return page(request, "magic_link/confirm.html", status_code=400, invalid=True, message=error.message)
    if isinstance(result, Challenge):  # the second factor first, then on to the target
        return challenge_response(request, result, target)
    cookie = auth.session_cookie(result)
    return redirect(request, target, cookies=[cookie])


VIEWS = Router(
    "/",
    route_handlers=[magic_link_page, magic_link_submit, magic_link_confirm, magic_link_sign_in],
    include_in_schema=False,
)
