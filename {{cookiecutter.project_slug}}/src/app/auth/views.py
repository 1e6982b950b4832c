"""HTML pages of the entrance: sign-in, sign-up, email verification, password reset, re-authentication."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Template

from app.auth import flows
from app.auth.kit import Challenge
from app.auth.second_factor import challenge_response
from app.auth.web import DB, Auth, CurrentUser, MaybePrincipal, request_meta
from app.core.errors import AppError, InvalidToken
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.core.ui import form_data, form_error, form_error_status, page, redirect

NO_STORE = {"cache-control": "no-store"}


def _next(request: Request[Any, Any, Any], auth: Auth, value: str | None = None) -> str:
    return safe_redirect(value or request.query_params.get("next"), trusted_origins(auth.settings), default="/")


def _form_error(
    request: Request[Any, Any, Any],
    template: str,
    error: AppError,
    form: dict[str, str],
    renamed: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """Re-render a form with the error next to its field (or on top), keeping what was typed."""
    return page(request, template, status_code=form_error_status(error), **form_error(error, form, renamed), **context)


@get("/sign-in", name="sign-in")
async def sign_in_page(request: Request[Any, Any, Any], auth: Auth, principal: MaybePrincipal) -> Any:
    """The sign-in form (signed-in visitors go straight on)."""
    if principal is not None:
        return redirect(request, _next(request, auth))
    return page(request, "auth/sign_in.html", next=_next(request, auth))


@post("/sign-in", opt={"rate_limit": "sign_in"})
async def sign_in_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, principal: MaybePrincipal) -> Any:
    """Check the credentials; on success set the cookie and continue to `next`."""
    form = await form_data(request, ["email", "password", "remember", "next"])
    target = _next(request, auth, form["next"])
    try:
        result = await flows.sign_in.sign_in(
            auth,
            db,
            request_meta(request),
            form["email"],
            form["password"],
            remember=form["remember"] == "on",
            replaces=principal.session_id if principal else None,
        )
    except AppError as error:
        return _form_error(request, "auth/sign_in.html", error, form, next=target)
    if isinstance(result, Challenge):  # the second factor first, then on to the target
        return challenge_response(request, result, target)
    cookie = auth.session_cookie(result)
    return redirect(request, target, cookies=[cookie])


@get("/sign-up", name="sign-up")
async def sign_up_page(request: Request[Any, Any, Any], auth: Auth, principal: MaybePrincipal) -> Any:
    """The sign-up form."""
    if principal is not None:
        return redirect(request, "/")
    return page(request, "auth/sign_up.html", next=_next(request, auth))


@post("/sign-up", opt={"rate_limit": "sign_up"})
async def sign_up_submit(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Any:
    """Create the account and show 'check your email' (the same page when the email is taken)."""
    form = await form_data(request, ["name", "email", "password", "next"])
    target = _next(request, auth, form["next"])
    errors = flows.sign_up.sign_up_errors(auth, form["name"], form["email"], form["password"])
    if errors:  # all of them at once: the password is not typed again for each
        kept = {k: v for k, v in form.items() if k != "password"}
        return page(request, "auth/sign_up.html", status_code=422, form=kept, errors=errors, next=target)
    try:
        user = await flows.sign_up.sign_up(
            auth,
            db,
            request_meta(request),
            form["name"],
            form["email"],
            form["password"],
            callback=target if target != "/" else None,
        )
    except AppError as error:
        return _form_error(request, "auth/sign_up.html", error, form, next=target)
    return page(
        request,
        "auth/check_email.html",
        email=user.email,
        next=target,
        can_sign_in_now=auth.settings.allow_unverified_sign_in,
    )


@post("/verify-email/resend")
async def resend_verification(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Any:
    """Send another verification link from the 'check your email' page."""
    form = await form_data(request, ["email"])
    try:
        await flows.email.send_verification(auth, db, request_meta(request), form["email"])
    except AppError as error:
        return _form_error(request, "auth/check_email.html", error, form, email=form["email"])
    return page(request, "auth/check_email.html", email=form["email"], resent=True)


@get("/verify-email")
async def verify_email_page(
    request: Request[Any, Any, Any], db: DB, auth: Auth, token: FromQuery[str] = ""
) -> Template:
    """The target of the verification link."""
    try:
        user = await flows.email.verify_email(auth, db, request_meta(request), token)
    except InvalidToken as error:
        return page(request, "auth/verify_result.html", status_code=400, ok=False, message=error.message)
    return page(request, "auth/verify_result.html", ok=True, email=user.email, next=_next(request, auth))


@get("/verify-email/change")
async def confirm_email_change_page(
    request: Request[Any, Any, Any], db: DB, auth: Auth, token: FromQuery[str] = ""
) -> Template:
    """The target of the link sent to a new address."""
    try:
        user = await flows.email.confirm_email_change(auth, db, request_meta(request), token)
    except InvalidToken as error:
        return page(request, "auth/verify_result.html", status_code=400, ok=False, message=error.message)
    return page(request, "auth/verify_result.html", ok=True, email=user.email, changed=True, next="/account")


@get("/forgot-password")
async def forgot_password_page(request: Request[Any, Any, Any]) -> Template:
    """Ask for the address to send a reset link to."""
    return page(request, "auth/forgot_password.html")


@post("/forgot-password")
async def forgot_password_submit(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Template:
    """Send the link if the address has an account; the page says the same either way."""
    form = await form_data(request, ["email"])
    try:
        await flows.password.request_password_reset(auth, db, request_meta(request), form["email"])
    except AppError as error:
        return _form_error(request, "auth/forgot_password.html", error, form)
    return page(request, "auth/forgot_password.html", sent=True, form=form)


@get("/reset-password")
async def reset_password_page(
    request: Request[Any, Any, Any], db: DB, auth: Auth, token: FromQuery[str] = ""
) -> Template:
    """The form behind a reset link (or a clear 'expired' message)."""
    if not await flows.password.check_reset_token(auth, db, token):
        return page(request, "auth/reset_password.html", status_code=400, invalid=True)
    return page(request, "auth/reset_password.html", token=token)


@post("/reset-password")
async def reset_password_submit(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Any:
    """Set the new password; every session is signed out and the user signs in again."""
    form = await form_data(request, ["token", "password"])
    try:
        await flows.password.reset_password(auth, db, request_meta(request), form["token"], form["password"])
    except InvalidToken:
        return page(request, "auth/reset_password.html", status_code=400, invalid=True)
    except AppError as error:
        renamed = {"newPassword": "password"}
        return _form_error(request, "auth/reset_password.html", error, {}, renamed, token=form["token"])
    return redirect(request, "/sign-in", notice="password-reset", cookies=auth.sessions.clear_cookies())


@post("/sign-out")
async def sign_out_submit(
    request: Request[Any, Any, Any], db: DB, auth: Auth, principal: MaybePrincipal
) -> Response[Any]:
    """Sign out this browser."""
    if principal is not None:
        await flows.sign_in.sign_out(auth, db, request_meta(request), principal)
    return redirect(request, "/sign-in", notice="signed-out", cookies=auth.sessions.clear_cookies())


@get("/reauthenticate")
async def reauthenticate_page(request: Request[Any, Any, Any], auth: Auth, user: CurrentUser) -> Template:
    """Confirm the password before a sensitive action."""
    target = _next(request, auth)
    return page(request, "auth/reauthenticate.html", next=target, cancel=target.split("?")[0])


@post("/reauthenticate", opt={"rate_limit": "sign_in"})
async def reauthenticate_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Any:
    """Make the session fresh and go back to where the user was."""
    form = await form_data(request, ["password", "next"])
    target = _next(request, auth, form["next"])
    try:
        await flows.password.reauthenticate(auth, db, request_meta(request), user, form["password"])
    except AppError as error:
        return _form_error(request, "auth/reauthenticate.html", error, form, next=target, cancel=target.split("?")[0])
    # A cached snapshot of the session still says "not fresh": drop it.
    return redirect(request, target, notice="reauthenticated", cookies=[auth.sessions.clear_cache_cookie()])


ENTRANCE_VIEWS = [
    sign_in_page,
    sign_in_submit,
    sign_up_page,
    sign_up_submit,
    resend_verification,
    verify_email_page,
    confirm_email_change_page,
    forgot_password_page,
    forgot_password_submit,
    reset_password_page,
    reset_password_submit,
    sign_out_submit,
    reauthenticate_page,
    reauthenticate_submit,
]
