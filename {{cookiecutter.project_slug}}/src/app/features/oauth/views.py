"""Pages: the provider buttons' targets, the callback, and "Sign-in methods" on the account page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from app.auth import DB, Auth, Challenge, CurrentUser, MaybePrincipal, challenge_response, fresh_session, request_meta
from app.core.errors import AppError
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.core.ui import form_data, page, redirect
from app.features.oauth.errors import OAuthRefused
from app.features.oauth.service import CALLBACK_PATH, LINK, callback_path
from app.features.oauth.web import binding, binding_cookie, oauth_service

PATH = "/account/connections"
CALLBACK_PARAMS = ("state", "code", "iss", "error", "error_description", "user")  # user: Apple's name, once


def _refused_page(request: Request[Any, Any, Any], error: OAuthRefused) -> Any:
    back = PATH if error.intent == LINK else "/sign-in"
    if error.error_redirect:
        separator = "&" if "?" in error.error_redirect else "?"
        return Redirect(f"{error.error_redirect}{separator}{urlencode({'error': error.code})}", status_code=303)
    return page(
        request, "oauth/refused.html", status_code=error.status_code, message=error.message, code=error.code, back=back
    )


def _cross_site(request: Request[Any, Any, Any]) -> bool:
    """A start requested from another site (a link or image planted elsewhere): refused.

    The buttons are links, not forms: the Content-Security-Policy's form-action 'self' would block
    a form whose answer redirects to the provider. Browsers say where a navigation came from."""
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


@get("/sign-in/social/{provider:str}", opt={"rate_limit": "sign_in"})
async def start_sign_in(request: Request[Any, Any, Any], db: DB, auth: Auth, provider: FromPath[str]) -> Any:
    """A provider button on the sign-in page: off to the provider."""
    target = safe_redirect(request.query_params.get("next"), trusted_origins(auth.settings), default="/")
    try:
        if _cross_site(request):
            raise OAuthRefused("Start signing in from this site's sign-in page.", reason="cross-site-start")
        url, browser = await oauth_service(request).start(db, provider, binding(request), target)
    except OAuthRefused as error:
        return _refused_page(request, error)
    return Redirect(url, status_code=303, cookies=[binding_cookie(request, browser)])


@get(CALLBACK_PATH, name="oauth-callback")
async def callback(
    request: Request[Any, Any, Any], db: DB, auth: Auth, principal: MaybePrincipal, provider: FromPath[str]
) -> Any:
    """Where the provider sends the browser back: check everything, then sign in or link."""
    params = {k: v[:2048] for k in CALLBACK_PARAMS if isinstance(v := request.query_params.get(k), str)}
    service = oauth_service(request)
    try:
        done = await service.finish(db, request_meta(request), provider, params, binding(request), principal)
    except OAuthRefused as error:
        return _refused_page(request, error)
    if done.result is None:
        return Redirect(done.redirect_to, status_code=303)
    if isinstance(done.result, Challenge):  # the second factor, then where the sign-in was going
        return challenge_response(request, done.result, done.redirect_to, navigation=True)
    cookie = auth.session_cookie(done.result)
    return Redirect(done.redirect_to, status_code=303, cookies=[cookie])


@post(CALLBACK_PATH, name="oauth-callback-form-post")
async def callback_form_post(request: Request[Any, Any, Any], provider: FromPath[str]) -> Response[Any]:
    """Apple's `form_post` answer arrives as a cross-site POST, without our SameSite cookies: turn
    it into a top-level GET of the callback, which carries them. It changes nothing by itself."""
    form = await request.form()
    params = {k: v[:2048] for k in CALLBACK_PARAMS if isinstance(v := form.get(k), str)}
    oauth_service(request).provider(provider)
    return Redirect(f"{callback_path(provider)}?{urlencode(params)}", status_code=303)


async def _methods_page(
    request: Request[Any, Any, Any], db: DB, user: CurrentUser, status_code: int = 200, **context: Any
) -> Any:
    service = oauth_service(request)
    rows = await service.linked(db, user.user_id)
    linked = [(account, link, service.providers.get(account.provider_id)) for account, link in rows if link]
    has_password = any(link is None and account.provider_id == "credential" for account, link in rows)
    # The rule that refuses to remove the last method counts what other features keep (passkeys) too.
    total = await service.auth.sign_in_methods(db, user.user_id)
    return page(
        request,
        "oauth/connections.html",
        status_code=status_code,
        linked=linked,
        has_password=has_password,
        total=total,
        elsewhere=max(total - len(linked) - has_password, 0),
        providers=[p for p in service.providers.values() if p.name not in {a.provider_id for a, _, _ in linked}],
        **context,
    )


@get(PATH)
async def methods_page(request: Request[Any, Any, Any], db: DB, user: CurrentUser) -> Any:
    """The user's sign-in methods: password, linked providers, and the providers they may link."""
    return await _methods_page(request, db, user)


@get(PATH + "/{provider:str}/link", guards=[fresh_session(PATH)], opt={"rate_limit": "sign_in"})
async def link_start(request: Request[Any, Any, Any], db: DB, user: CurrentUser, provider: FromPath[str]) -> Any:
    """Link a provider: off to the provider, back to this page."""
    service = oauth_service(request)
    try:
        if _cross_site(request):
            raise OAuthRefused("Link accounts from your sign-in methods page.", reason="cross-site-start", intent=LINK)
        url, browser = await service.start(db, provider, binding(request), PATH, intent=LINK, user_id=user.user_id)
    except AppError as error:
        return await _methods_page(request, db, user, status_code=error.status_code, form_error=error.message)
    return Redirect(url, status_code=303, cookies=[binding_cookie(request, browser)])


@post(PATH + "/{provider:str}/unlink", guards=[fresh_session(PATH)])
async def unlink(request: Request[Any, Any, Any], db: DB, user: CurrentUser, provider: FromPath[str]) -> Any:
    """Remove a linked provider (never the last way to sign in)."""
    form = await form_data(request, ["account_id"])
    try:
        await oauth_service(request).unlink(db, request_meta(request), user, provider, form["account_id"] or None)
    except AppError as error:
        return await _methods_page(request, db, user, status_code=error.status_code, form_error=error.message)
    return redirect(request, PATH)


VIEWS = [start_sign_in, callback, callback_form_post, methods_page, link_start, unlink]
