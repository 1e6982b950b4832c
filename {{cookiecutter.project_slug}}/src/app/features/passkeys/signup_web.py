"""Passkey-first sign-up over HTTP: the pages (/sign-up/passkey ...) and the JSON API behind their button."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.params import FromQuery, JSONBody
from litestar.response import Template

from app.auth import DB, Auth, MaybePrincipal, request_meta, user_json
from app.core.errors import AppError, InvalidToken, TooManyAttempts, Vetoed
from app.core.openapi import raises
from app.core.ui import form_data, form_error, form_error_status, page, redirect
from app.features.passkeys.challenges import InvalidChallenge
from app.features.passkeys.service import DuplicatePasskey, PasskeyRejected
from app.features.passkeys.signup import PasskeySignUps, SignUpDisabled, sign_up_allowed
from app.features.passkeys.web import PasskeyService, binding_cookie, provide_passkeys

Token = Annotated[str, msgspec.Meta(max_length=128)]
Short = Annotated[str, msgspec.Meta(max_length=300)]


class SignUpRequest(msgspec.Struct):
    name: Short
    email: Short


class SignUpOptions(msgspec.Struct):
    token: Token


class SignUpFinish(msgspec.Struct):
    token: Token
    response: dict[str, Any]


@post("/api/auth/passkey/sign-up/request", opt={"rate_limit": "sign_up"}, status_code=200)
@raises(SignUpDisabled, TooManyAttempts)
async def api_request(
    request: Request[Any, Any, Any], data: JSONBody[SignUpRequest], db: DB, passkeys: PasskeyService
) -> dict[str, bool]:
    """Email the link that finishes a passkey sign-up (the same answer for a taken address)."""
    await PasskeySignUps(passkeys).request(db, request_meta(request), data.name, data.email)
    return {"status": True}


@post("/api/auth/passkey/sign-up/options", opt={"rate_limit": "sign_up"}, status_code=200)
@raises(SignUpDisabled, InvalidToken)
async def api_options(
    request: Request[Any, Any, Any], data: JSONBody[SignUpOptions], db: DB, passkeys: PasskeyService
) -> Response[Any]:
    """Creation options for the account the emailed link is for."""
    binding, cookie = passkeys.challenges.binding(binding_cookie(request, passkeys))
    options = await PasskeySignUps(passkeys).options(db, binding, data.token)
    return Response(options, cookies=[cookie] if cookie else [])


@post("/api/auth/passkey/sign-up/verify", opt={"rate_limit": "sign_up"}, status_code=200)
@raises(SignUpDisabled, InvalidChallenge, PasskeyRejected, DuplicatePasskey, InvalidToken, Vetoed)
async def api_finish(
    request: Request[Any, Any, Any],
    data: JSONBody[SignUpFinish],
    db: DB,
    auth: Auth,
    principal: MaybePrincipal,
    passkeys: PasskeyService,
) -> Response[Any]:
    """Create the account and its passkey, and sign in (sets the session cookie)."""
    result = await PasskeySignUps(passkeys).finish(
        db,
        request_meta(request),
        binding_cookie(request, passkeys),
        data.token,
        data.response,
        replaces=principal.session_id if principal else None,
    )
    cookie = auth.session_cookie(result)
    return Response({"token": None, "url": "/", "user": user_json(result.user)}, cookies=[cookie])


@get("/sign-up/passkey", include_in_schema=False)
async def sign_up_page(request: Request[Any, Any, Any], principal: MaybePrincipal) -> Any:
    """Name and address for a passkey account."""
    if not sign_up_allowed(request.app.state.settings):
        raise SignUpDisabled()
    if principal is not None:
        return redirect(request, "/")
    return page(request, "passkeys/sign_up.html")


@post("/sign-up/passkey", opt={"rate_limit": "sign_up"}, include_in_schema=False)
async def sign_up_submit(request: Request[Any, Any, Any], db: DB, passkeys: PasskeyService) -> Template:
    """Send the link; the page says the same whether or not the address has an account."""
    form = await form_data(request, ["name", "email"])
    try:
        email = await PasskeySignUps(passkeys).request(db, request_meta(request), form["name"], form["email"])
    except SignUpDisabled:
        raise
    except AppError as error:
        return page(request, "passkeys/sign_up.html", status_code=form_error_status(error), **form_error(error, form))
    return page(request, "passkeys/sign_up.html", sent=True, email=email)


@get("/sign-up/passkey/finish", include_in_schema=False)
async def finish_page(
    request: Request[Any, Any, Any], db: DB, passkeys: PasskeyService, token: FromQuery[str] = ""
) -> Template:
    """The page behind the emailed link: one button creates the passkey and the account."""
    found = await PasskeySignUps(passkeys).pending(db, token)
    if found is None or not sign_up_allowed(request.app.state.settings):
        return page(request, "passkeys/sign_up_finish.html", status_code=400, invalid=True)
    return page(request, "passkeys/sign_up_finish.html", token=token, email=found[0], name=found[1])


SIGN_UP_HANDLERS = [
    Router(
        "/",
        route_handlers=[api_request, api_options, api_finish, sign_up_page, sign_up_submit, finish_page],
        dependencies={"passkeys": Provide(provide_passkeys, sync_to_thread=False)},
    )
]
