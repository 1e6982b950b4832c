"""HTML pages of two-step verification: set-up, recovery codes, turning it off, and the challenge forms.

Set-up, new recovery codes and turning off need a fresh session (the guard sends a stale one to
confirm the password first). The challenge forms post here; the core's challenge page shows them.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post

from app.auth import (
    DB,
    Auth,
    CurrentUser,
    SecondFactorExpired,
    challenge_page,
    fresh_session,
    pending_token,
    request_meta,
    session_cookies,
)
from app.core.errors import AppError
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.core.ui import form_data, form_error_status, page, redirect
from app.features.two_factor.service import service_for

SECURITY_PAGE = "/account/security"
SETUP_PAGE = "/account/two-factor/setup"


@get(SETUP_PAGE)
async def setup_page(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Any:
    """The QR code and key of a set-up in progress (or back to the security page)."""
    service = service_for(request.app)
    row = await service.row(db, user.user_id)
    if row is None or row.enabled:
        return redirect(request, SECURITY_PAGE)
    return page(request, "two_factor/setup.html", enrolment=service.enrolment(row, user.email))


@post(SETUP_PAGE, guards=[fresh_session(SECURITY_PAGE)])
async def setup_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Any:
    """Start setting up an authenticator app: a new key, shown as a QR code and in text."""
    try:
        enrolment = await service_for(request.app).start(db, user)
    except AppError:
        return redirect(request, SECURITY_PAGE)
    return page(request, "two_factor/setup.html", enrolment=enrolment)


@post("/account/two-factor/confirm", opt={"rate_limit": "sign_in"})
async def confirm_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Any:
    """Switch it on with a code from the app; show the recovery codes once."""
    form = await form_data(request, ["code"])
    service = service_for(request.app)
    try:
        codes = await service.confirm(db, request_meta(request), user, form["code"])
    except AppError as error:
        row = await service.row(db, user.user_id)
        if row is None or row.enabled:
            return redirect(request, SECURITY_PAGE)
        return page(
            request,
            "two_factor/setup.html",
            status_code=422,
            enrolment=service.enrolment(row, user.email),
            errors={"code": error.message},
        )
    return page(request, "two_factor/recovery_codes.html", codes=codes, just_enabled=True)


@post("/account/two-factor/recovery-codes", guards=[fresh_session(SECURITY_PAGE)])
async def regenerate_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Any:
    """A new set of recovery codes; the old ones stop working."""
    try:
        codes = await service_for(request.app).regenerate(db, request_meta(request), user)
    except AppError:
        return redirect(request, SECURITY_PAGE)
    return page(request, "two_factor/recovery_codes.html", codes=codes, just_enabled=False)


@post("/account/two-factor/disable", guards=[fresh_session(SECURITY_PAGE)])
async def disable_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Response[Any]:
    """Turn two-step verification off."""
    try:
        await service_for(request.app).disable(db, request_meta(request), user)
    except AppError:
        return redirect(request, SECURITY_PAGE)
    return redirect(request, SECURITY_PAGE, notice="two-factor-disabled")


async def _challenge(request: Request[Any, Any, Any], db: DB, auth: Auth, factor: str) -> Any:
    form = await form_data(request, ["code", "trust_device", "next"])
    target = safe_redirect(form["next"], trusted_origins(auth.settings), default="/")
    service = service_for(request.app)
    verify = service.verify_totp if factor == "totp" else service.verify_recovery_code
    try:
        result = await verify(
            db, request_meta(request), pending_token(request), form["code"], form["trust_device"] == "on"
        )
    except SecondFactorExpired as error:
        notice = "second-factor-expired"
        cookies = [auth.gate.clear_pending_cookie()]
        if error.message != SecondFactorExpired.default_message:
            notice = "second-factor-too-many"
        return redirect(request, "/sign-in", notice=notice, cookies=cookies)
    except AppError as error:
        kept = {"trust_device": form["trust_device"]}
        return await challenge_page(
            request,
            db,
            auth,
            target,
            status_code=form_error_status(error),
            form=kept,
            factor_errors={factor: error.message},
            open_factor=factor,
        )
    return redirect(request, target, cookies=session_cookies(request, result))


@post("/sign-in/two-factor/totp", opt={"rate_limit": "sign_in"})
async def challenge_totp(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Any:
    """Finish signing in with a code from the authenticator app."""
    return await _challenge(request, db, auth, "totp")


@post("/sign-in/two-factor/recovery-code", opt={"rate_limit": "sign_in"})
async def challenge_recovery_code(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Any:
    """Finish signing in with a recovery code."""
    return await _challenge(request, db, auth, "recovery_code")


VIEWS = Router(
    "/",
    route_handlers=[
        setup_page,
        setup_submit,
        confirm_submit,
        regenerate_submit,
        disable_submit,
        challenge_totp,
        challenge_recovery_code,
    ],
    include_in_schema=False,
)
