"""JSON API of passkeys, with Better Auth's paths (`/api/auth/passkey/...`)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post, route
from litestar.di import Provide
from litestar.params import JSONBody

from app.auth import (
    DB,
    Auth,
    Challenge,
    CurrentUser,
    MaybePrincipal,
    challenge_response,
    request_meta,
    user_json,
    wants_token,
)
from app.core.errors import AccountBanned, EmailNotVerified, SessionNotFresh, Vetoed
from app.core.openapi import raises
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.core.ui import flash_cookie
from app.features.passkeys.challenges import InvalidChallenge
from app.features.passkeys.models import Passkey
from app.features.passkeys.service import (
    REAUTHENTICATE,
    SIGN_IN,
    DuplicatePasskey,
    LastSignInMethod,
    PasskeyNotFound,
    PasskeyRejected,
)
from app.features.passkeys.web import PasskeyService, binding_cookie, provide_passkeys

Text = Annotated[str, msgspec.Meta(max_length=4096)]


class VerifyRegistration(msgspec.Struct):
    response: dict[str, Any]
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class VerifyAuthentication(msgspec.Struct):
    response: dict[str, Any]
    callback_url: Text | None = msgspec.field(default=None, name="callbackURL")


class PasskeyId(msgspec.Struct):
    id: Annotated[str, msgspec.Meta(max_length=64)]


class UpdatePasskey(msgspec.Struct):
    id: Annotated[str, msgspec.Meta(max_length=64)]
    name: Annotated[str, msgspec.Meta(max_length=200)]


def passkey_json(passkey: Passkey) -> dict[str, Any]:
    """A passkey as Better Auth's client lists it (the public key is public; nothing here is secret)."""
    return {
        "id": str(passkey.id),
        "name": passkey.name,
        "userId": str(passkey.user_id),
        "credentialID": passkey.credential_id,
        "counter": passkey.sign_count,
        "deviceType": "multiDevice" if passkey.device_type == "multi_device" else "singleDevice",
        "backedUp": passkey.backed_up,
        "transports": ",".join(passkey.transports),
        "aaguid": passkey.aaguid,
        "createdAt": passkey.created_at.isoformat(),
        "lastUsedAt": passkey.last_used_at.isoformat() if passkey.last_used_at else None,
    }


def _options(request: Request[Any, Any, Any], passkeys: PasskeyService) -> tuple[str, list[Any]]:
    binding, cookie = passkeys.challenges.binding(binding_cookie(request, passkeys))
    return binding, [cookie] if cookie else []


@route("/generate-register-options", http_method=["GET", "POST"], status_code=200)
@raises(SessionNotFresh)
async def generate_register_options(
    request: Request[Any, Any, Any], db: DB, user: CurrentUser, passkeys: PasskeyService
) -> Response[Any]:
    """Options for navigator.credentials.create(): needs a fresh session."""
    binding, cookies = _options(request, passkeys)
    return Response(await passkeys.registration_options(db, user, binding), cookies=cookies)


@post("/verify-registration", status_code=200)
@raises(SessionNotFresh, InvalidChallenge, PasskeyRejected, DuplicatePasskey)
async def verify_registration(
    request: Request[Any, Any, Any],
    data: JSONBody[VerifyRegistration],
    db: DB,
    user: CurrentUser,
    passkeys: PasskeyService,
) -> Response[Any]:
    """Store the new passkey after checking the authenticator's answer."""
    passkey = await passkeys.register(
        db, request_meta(request), user, binding_cookie(request, passkeys), data.response, data.name
    )
    # The page reloads after this answer and shows the notice (a key of the feature's UI.notices).
    return Response(passkey_json(passkey), cookies=[flash_cookie("passkey-added")])


@route("/generate-authenticate-options", http_method=["GET", "POST"], status_code=200)
async def generate_authenticate_options(
    request: Request[Any, Any, Any], db: DB, passkeys: PasskeyService
) -> Response[Any]:
    """Options for navigator.credentials.get(): any passkey of this site (discoverable credentials).

    Every sign-in page asks for these (for the autofill), so only the general per-IP limit applies
    here; checking the answer counts against the sign-in limit.
    """
    binding, cookies = _options(request, passkeys)
    return Response(await passkeys.authentication_options(db, binding, SIGN_IN), cookies=cookies)


@post("/verify-authentication", opt={"rate_limit": "sign_in"}, status_code=200)
@raises(InvalidChallenge, PasskeyRejected, EmailNotVerified, AccountBanned, Vetoed)
async def verify_authentication(
    request: Request[Any, Any, Any],
    data: JSONBody[VerifyAuthentication],
    db: DB,
    auth: Auth,
    principal: MaybePrincipal,
    passkeys: PasskeyService,
) -> Response[Any]:
    """Sign in with a passkey: sets the session cookie (and returns the token when asked for)."""
    result = await passkeys.sign_in(
        db,
        request_meta(request),
        binding_cookie(request, passkeys),
        data.response,
        replaces=principal.session_id if principal else None,
    )
    if isinstance(result, Challenge):
        return challenge_response(request, result)
    url = safe_redirect(data.callback_url, trusted_origins(auth.settings), default="") or None
    body: dict[str, Any] = {"redirect": bool(url), "url": url, "token": None, "user": user_json(result.user)}
    headers = {}
    if wants_token(request):
        body["token"] = result.token
        headers = {"set-auth-token": result.token, "access-control-expose-headers": "set-auth-token"}
    cookie = auth.session_cookie(result)
    return Response(body, cookies=[cookie], headers=headers)


class Reauthenticate(msgspec.Struct):
    response: dict[str, Any]


@post("/reauthenticate/options", opt={"rate_limit": "sign_in"}, status_code=200)
@raises(PasskeyNotFound)
async def reauthenticate_options(
    request: Request[Any, Any, Any], db: DB, user: CurrentUser, passkeys: PasskeyService
) -> Response[Any]:
    """Options to confirm it's you with one of your passkeys (instead of the password)."""
    binding, cookies = _options(request, passkeys)
    return Response(
        await passkeys.authentication_options(db, binding, REAUTHENTICATE, user_id=user.user_id), cookies=cookies
    )


@post("/reauthenticate/verify", opt={"rate_limit": "sign_in"}, status_code=200)
@raises(InvalidChallenge, PasskeyRejected)
async def reauthenticate_verify(
    request: Request[Any, Any, Any],
    data: JSONBody[Reauthenticate],
    db: DB,
    auth: Auth,
    user: CurrentUser,
    passkeys: PasskeyService,
) -> Response[Any]:
    """Make this session fresh; the cached session snapshot is dropped."""
    await passkeys.reauthenticate(db, request_meta(request), user, binding_cookie(request, passkeys), data.response)
    return Response({"status": True}, cookies=[auth.sessions.clear_cache_cookie()])


@get("/list-user-passkeys")
async def list_user_passkeys(db: DB, user: CurrentUser, passkeys: PasskeyService) -> list[dict[str, Any]]:
    """The signed-in user's passkeys."""
    return [passkey_json(p) for p in await passkeys.for_user(db, user.user_id)]


@post("/delete-passkey", status_code=200)
@raises(SessionNotFresh, PasskeyNotFound, LastSignInMethod)
async def delete_passkey(
    request: Request[Any, Any, Any], data: JSONBody[PasskeyId], db: DB, user: CurrentUser, passkeys: PasskeyService
) -> dict[str, bool]:
    """Remove a passkey (fresh session; never the last way to sign in)."""
    await passkeys.delete(db, request_meta(request), user, data.id)
    return {"status": True}


@post("/update-passkey", status_code=200)
@raises(PasskeyNotFound)
async def update_passkey(
    request: Request[Any, Any, Any], data: JSONBody[UpdatePasskey], db: DB, user: CurrentUser, passkeys: PasskeyService
) -> dict[str, Any]:
    """Rename a passkey."""
    passkey = await passkeys.rename(db, request_meta(request), user, data.id, data.name)
    return {"passkey": passkey_json(passkey)}


API = Router(
    "/api/auth/passkey",
    route_handlers=[
        generate_register_options,
        verify_registration,
        generate_authenticate_options,
        verify_authentication,
        reauthenticate_options,
        reauthenticate_verify,
        list_user_passkeys,
        delete_passkey,
        update_passkey,
    ],
    dependencies={"passkeys": Provide(provide_passkeys, sync_to_thread=False)},
    tags=["passkey"],
)
