"""A passkey as the second factor after a password (or magic link, OAuth): the core gate's contract.

`PASSKEY_SECOND_FACTOR` is listed in `FEATURE.second_factors`; the core challenge page
(`/sign-in/second-factor`) includes its template when the user has a passkey and
PASSKEYS_SECOND_FACTOR is on. Its two routes ask for and check an assertion limited to the
pending user's passkeys; a passkey of another account never finishes the sign-in.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.di import Provide
from litestar.params import JSONBody
from sqlalchemy import ColumnElement, exists
from sqlmodel import col

from app.auth import (
    DB,
    Auth,
    InvalidSecondFactor,
    SecondFactorExpired,
    pending_token,
    request_meta,
    session_cookies,
    user_json,
)
from app.core.errors import AccountBanned, TooManyAttempts, Vetoed
from app.core.openapi import raises
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.features.passkeys.challenges import InvalidChallenge
from app.features.passkeys.models import Passkey
from app.features.passkeys.service import SECOND_FACTOR, PasskeyNotFound, PasskeyRejected
from app.features.passkeys.settings import PasskeySettings
from app.features.passkeys.web import PasskeyService, binding_cookie, provide_passkeys
from app.settings import Settings


class PasskeySecondFactor:
    """Matches app.auth.second_factor.SecondFactor."""

    name = "passkey"
    label = "Passkey"
    template = "passkeys/challenge.html"

    def offered(self, settings: Settings) -> bool:
        """When PASSKEYS_SECOND_FACTOR asks passkeys to be used after a password."""
        return settings.feature(PasskeySettings).second_factor

    def enrolled_when(self, user_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
        """A user with a passkey."""
        return exists().where(col(Passkey.user_id) == user_id)


PASSKEY_SECOND_FACTOR = PasskeySecondFactor()


_ROUTE: dict[str, Any] = {
    "opt": {"rate_limit": "sign_in"},
    "status_code": 200,
    "tags": ["passkey"],
    "dependencies": {"passkeys": Provide(provide_passkeys, sync_to_thread=False)},
}


class VerifySecondFactor(msgspec.Struct):
    response: dict[str, Any]
    callback_url: Annotated[str, msgspec.Meta(max_length=4096)] | None = msgspec.field(default=None, name="callbackURL")


@post("/api/auth/passkey/second-factor/options", **_ROUTE)
@raises(InvalidChallenge, PasskeyNotFound)
async def second_factor_options(
    request: Request[Any, Any, Any], db: DB, auth: Auth, passkeys: PasskeyService
) -> Response[Any]:
    """Options for navigator.credentials.get(), limited to the pending user's passkeys."""
    pending = await auth.pending_second_factor(db, pending_token(request))
    if pending is None:
        raise InvalidChallenge("Your sign-in has expired. Sign in again.")
    binding, cookie = passkeys.challenges.binding(binding_cookie(request, passkeys))
    options = await passkeys.authentication_options(db, binding, SECOND_FACTOR, user_id=pending.user_id)
    return Response(options, cookies=[cookie] if cookie else [])


@post("/api/auth/passkey/second-factor/verify", **_ROUTE)
@raises(
    InvalidChallenge, PasskeyRejected, SecondFactorExpired, InvalidSecondFactor, TooManyAttempts, AccountBanned, Vetoed
)
async def second_factor_verify(
    request: Request[Any, Any, Any],
    data: JSONBody[VerifySecondFactor],
    db: DB,
    auth: Auth,
    passkeys: PasskeyService,
) -> Response[Any]:
    """Finish the pending sign-in with one of its user's passkeys; a failure counts as a wrong code."""
    token = pending_token(request)
    meta = request_meta(request)
    try:  # the attempt spends a unit of the account's failed sign-in budget, as a code would
        pending = await auth.require_pending(db, token)
    except SecondFactorExpired:
        raise InvalidChallenge("Your sign-in has expired. Sign in again.") from None
    try:
        await passkeys.verify(
            db, meta, binding_cookie(request, passkeys), data.response, SECOND_FACTOR, pending.user_id
        )
    except (PasskeyRejected, InvalidChallenge):
        await auth.fail_second_factor(db, meta, token, "passkey")
        raise
    result = await auth.finish_second_factor(db, meta, token, "passkey")
    url = safe_redirect(data.callback_url, trusted_origins(auth.settings), default="/")
    body = {"redirect": True, "url": url, "token": None, "user": user_json(result.user)}
    return Response(body, cookies=session_cookies(request, result))


SECOND_FACTOR_HANDLERS = [second_factor_options, second_factor_verify]
