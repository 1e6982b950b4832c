"""JSON API of two-factor authentication, with Better Auth's paths and shapes (`/api/auth/two-factor/...`).

`enable` gives a new key and recovery codes; the first `verify-totp` with a signed-in session
switches it on. During a sign-in challenge (the pending cookie, after `{"twoFactorRedirect": true}`)
`verify-totp` and `verify-backup-code` finish the sign-in. Password-protected calls also accept a
fresh session instead of the password.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, post
from litestar.params import JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import (
    DB,
    Auth,
    CurrentUser,
    InvalidSecondFactor,
    MaybePrincipal,
    Principal,
    SecondFactorExpired,
    SignInResult,
    pending_token,
    request_meta,
    session_cookies,
    user_json,
    wants_token,
)
from app.core.db import utcnow
from app.core.errors import AccountBanned, SessionNotFresh, TooManyAttempts, Unauthorized, Vetoed
from app.core.openapi import raises
from app.features.two_factor.service import TwoFactorAlreadyEnabled, TwoFactorNotEnabled, TwoFactorService, service_for

Text = Annotated[str, msgspec.Meta(max_length=4096)]


class PasswordBody(msgspec.Struct):
    password: Text | None = None
    issuer: Text | None = None


class CodeBody(msgspec.Struct):
    code: Text
    trust_device: bool = msgspec.field(default=False, name="trustDevice")


def _signed_in(request: Request[Any, Any, Any], result: SignInResult) -> Response[Any]:
    body: dict[str, Any] = {"token": None, "user": user_json(result.user)}
    headers = {}
    if wants_token(request):
        body["token"] = result.token
        headers = {"set-auth-token": result.token, "access-control-expose-headers": "set-auth-token"}
    return Response(body, cookies=session_cookies(request, result), headers=headers)


@post("/enable", status_code=200)
@raises(SessionNotFresh, TooManyAttempts, TwoFactorAlreadyEnabled)
async def enable(
    request: Request[Any, Any, Any], data: JSONBody[PasswordBody], db: DB, auth: Auth, user: CurrentUser
) -> dict[str, Any]:
    """A new key (`totpURI`) and recovery codes (`backupCodes`); on after the first verified code."""
    service = service_for(request.app)
    user = await _authorized(service, db, user, data.password)
    enrolment, codes = await service.enable_with_codes(db, user)
    return {"totpURI": enrolment.uri, "backupCodes": codes}


@post("/get-totp-uri", status_code=200)
@raises(SessionNotFresh, TooManyAttempts, TwoFactorNotEnabled)
async def get_totp_uri(
    request: Request[Any, Any, Any], data: JSONBody[PasswordBody], db: DB, auth: Auth, user: CurrentUser
) -> dict[str, Any]:
    """The otpauth:// URI of the user's key (to add it to another device)."""
    service = service_for(request.app)
    user = await _authorized(service, db, user, data.password)
    row = await service.row(db, user.user_id)
    if row is None:
        raise TwoFactorNotEnabled()
    return {"totpURI": service.enrolment(row, user.email).uri}


@post("/disable", status_code=200)
@raises(SessionNotFresh, TooManyAttempts, TwoFactorNotEnabled)
async def disable(
    request: Request[Any, Any, Any], data: JSONBody[PasswordBody], db: DB, auth: Auth, user: CurrentUser
) -> dict[str, Any]:
    """Turn 2FA off: key, recovery codes and trusted browsers go."""
    service = service_for(request.app)
    user = await _authorized(service, db, user, data.password)
    await service.disable(db, request_meta(request), user)
    return {"status": True}


@post("/generate-backup-codes", status_code=200)
@raises(SessionNotFresh, TooManyAttempts, TwoFactorNotEnabled)
async def generate_backup_codes(
    request: Request[Any, Any, Any], data: JSONBody[PasswordBody], db: DB, auth: Auth, user: CurrentUser
) -> dict[str, Any]:
    """A new set of recovery codes; the old set stops working."""
    service = service_for(request.app)
    user = await _authorized(service, db, user, data.password)
    codes = await service.regenerate(db, request_meta(request), user)
    return {"status": True, "backupCodes": codes}


@post("/verify-totp", opt={"rate_limit": "sign_in"}, status_code=200)
@raises(
    SecondFactorExpired,
    InvalidSecondFactor,
    AccountBanned,
    TooManyAttempts,
    Vetoed,
    TwoFactorNotEnabled,
    TwoFactorAlreadyEnabled,
)
async def verify_totp(
    request: Request[Any, Any, Any], data: JSONBody[CodeBody], db: DB, auth: Auth, principal: MaybePrincipal
) -> Response[Any]:
    """Finish a pending sign-in with a TOTP code, or (signed in) confirm the set-up."""
    service = service_for(request.app)
    token = pending_token(request)
    if token or principal is None:
        result = await service.verify_totp(db, request_meta(request), token, data.code, data.trust_device)
        return _signed_in(request, result)
    await service.confirm(db, request_meta(request), principal, data.code, with_codes=False)
    return Response({"token": None, "user": user_json(principal)})


@post("/verify-backup-code", opt={"rate_limit": "sign_in"}, status_code=200)
@raises(Unauthorized, SecondFactorExpired, InvalidSecondFactor, AccountBanned, TooManyAttempts, Vetoed)
async def verify_backup_code(
    request: Request[Any, Any, Any], data: JSONBody[CodeBody], db: DB, auth: Auth
) -> Response[Any]:
    """Finish a pending sign-in with a recovery code (each works once)."""
    token = pending_token(request)
    if not token:
        raise Unauthorized("No sign-in is waiting for a second step.")
    result = await service_for(request.app).verify_recovery_code(
        db, request_meta(request), token, data.code, data.trust_device
    )
    return _signed_in(request, result)


async def _authorized(service: TwoFactorService, db: AsyncSession, user: Principal, password: str | None) -> Principal:
    """The password (as Better Auth asks) or a fresh session; with the password, the principal counts as fresh."""
    await service.check_password_or_fresh(db, user, password)
    return replace(user, authenticated_at=utcnow()) if password else user


API = Router(
    "/api/auth/two-factor",
    route_handlers=[enable, get_totp_uri, disable, generate_backup_codes, verify_totp, verify_backup_code],
    tags=["two-factor"],
)
