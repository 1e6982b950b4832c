"""The JSON API under /api/auth/, with Better Auth's paths and shapes. HTTP only: parse, call, answer.

Browsers hold the session token in an HttpOnly cookie only. Clients without cookies ask sign-in
for it (`x-return-token: true`): it comes in the body's `token` and in the `set-auth-token`
header, as with Better Auth's bearer plugin, and goes back as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromQuery, JSONBody
from litestar.response import Redirect
from litestar.serialization import encode_json
from litestar.types import ASGIApp, Receive, Scope, Send

from app.auth import flows, schemas
from app.auth.kit import Challenge, SignInResult
from app.auth.second_factor import challenge_response
from app.auth.sessions import Principal
from app.auth.web import DB, Auth, Control, CurrentUser, MaybePrincipal, request_meta, wants_token
from app.core.errors import (
    AccountBanned,
    EmailNotVerified,
    InvalidCredentials,
    InvalidToken,
    SessionNotFound,
    SessionNotFresh,
    TooManyAttempts,
    Vetoed,
)
from app.core.openapi import raises
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins

OK = {"status": True}


def _signed_in(request: Request[Any, Any, Any], result: SignInResult, body: dict[str, Any]) -> Response[Any]:
    """The answer to a sign-in (or token rotation): the cookie, and the token itself when asked for."""
    auth: Auth = request.app.state.auth
    cookie = auth.session_cookie(result)
    headers = {}
    if wants_token(request):
        body = body | {"token": result.token}
        headers = {"set-auth-token": result.token, "access-control-expose-headers": "set-auth-token"}
    return Response(body, cookies=[cookie], headers=headers)


@post("/sign-up/email", opt={"rate_limit": "sign_up"}, status_code=200)
@raises(TooManyAttempts, Vetoed)
async def sign_up_email(
    request: Request[Any, Any, Any], data: JSONBody[schemas.SignUpEmail], db: DB, auth: Auth
) -> dict[str, Any]:
    """Create an account and mail a verification link. A taken email gets the same answer."""
    user = await flows.sign_up.sign_up(
        auth, db, request_meta(request), data.name, data.email, data.password, data.callback_url
    )
    return {"token": None, "user": schemas.user_json(user)}


@post("/sign-in/email", opt={"rate_limit": "sign_in"}, status_code=200)
@raises(InvalidCredentials, EmailNotVerified, AccountBanned, TooManyAttempts, Vetoed)
async def sign_in_email(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.SignInEmail],
    db: DB,
    auth: Auth,
    principal: MaybePrincipal,
) -> Response[Any]:
    """Sign in with email and password; the token goes into an HttpOnly cookie (and the body when asked for)."""
    replaces = principal.session_id if principal else None
    result = await flows.sign_in.sign_in(
        auth, db, request_meta(request), data.email, data.password, data.remember_me, replaces
    )
    if isinstance(result, Challenge):  # Better Auth's twoFactorRedirect, and the pending cookie
        return challenge_response(request, result)
    url = safe_redirect(data.callback_url, trusted_origins(auth.settings), default="") or None
    body = {"redirect": bool(url), "url": url, "token": None, "user": schemas.user_json(result.user)}
    return _signed_in(request, result, body)


@post("/sign-out", status_code=200)
async def sign_out(request: Request[Any, Any, Any], db: DB, auth: Auth, principal: MaybePrincipal) -> Response[Any]:
    """End this session (delete its row) and clear the cookie."""
    if principal is not None:
        await flows.sign_in.sign_out(auth, db, request_meta(request), principal)
    return Response({"success": True}, cookies=auth.sessions.clear_cookies())


@get("/get-session")
async def get_session(request: Request[Any, Any, Any]) -> ASGIApp:
    """The current session and user, or `null`. Features may add fields to the session (`session_fields`).

    This is the hot path of every client that polls its session: the answer is encoded once per
    principal and sent as is. A principal from the cookie cache is the same object on every request
    of its snapshot, so with the cache the answer costs no database read and no encoding at all;
    the fields features add come with the session lookup's one SELECT (or the snapshot). The
    principal comes from the scope the session resolver filled, not through a dependency.
    """
    principal: Principal | None = request.scope.get("user")
    if principal is None:
        return NO_SESSION
    return principal.memo(_session_reply)


def json_answer(body: bytes) -> ASGIApp:
    """A 200 answer with this JSON body, as a plain ASGI app: what `Response` would send, without
    building one (its header handling is most of a small answer's cost)."""
    headers = ((b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()))

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return answer


NO_SESSION = json_answer(b"null")


def _session_reply(principal: Principal) -> ASGIApp:
    """get-session's answer for a principal (built once per principal object, see Principal.memo)."""
    session = schemas.session_json(principal) | dict(principal.fields)
    return json_answer(encode_json({"session": session, "user": schemas.user_json(principal)}))


@post("/send-verification-email", status_code=200)
@raises(TooManyAttempts)
async def send_verification_email(
    request: Request[Any, Any, Any], data: JSONBody[schemas.SendVerificationEmail], db: DB, auth: Auth
) -> dict[str, Any]:
    """Mail a new verification link (silently nothing when there is no such unverified user)."""
    await flows.email.send_verification(auth, db, request_meta(request), data.email, data.callback_url)
    return OK


@get("/verify-email")
@raises(InvalidToken)
async def verify_email(
    request: Request[Any, Any, Any],
    db: DB,
    auth: Auth,
    token: FromQuery[str] = "",
) -> Response[Any]:
    """Use up a verification link; redirect to a safe callbackURL when given."""
    user = await flows.email.verify_email(auth, db, request_meta(request), token)
    target = safe_redirect(request.query_params.get("callbackURL"), trusted_origins(auth.settings), default="")
    if target:
        return Redirect(target, status_code=302)
    return Response({"status": True, "user": schemas.user_json(user)})


@post("/request-password-reset", status_code=200)
@raises(TooManyAttempts)
async def request_password_reset(
    request: Request[Any, Any, Any], data: JSONBody[schemas.RequestPasswordReset], db: DB, auth: Auth
) -> dict[str, Any]:
    """Mail a reset link if the address has an account; the answer is the same either way."""
    await flows.password.request_password_reset(auth, db, request_meta(request), data.email)
    return {"status": True, "message": "If this email exists in our system, check your email for the reset link"}


@post("/reset-password", status_code=200)
@raises(InvalidToken)
async def reset_password(
    request: Request[Any, Any, Any], data: JSONBody[schemas.ResetPassword], db: DB, auth: Auth
) -> dict[str, Any]:
    """Set a new password from a reset token; every session of the user is signed out."""
    token = data.token or str(request.query_params.get("token") or "")
    await flows.password.reset_password(auth, db, request_meta(request), token, data.new_password)
    return OK


@post("/change-password", status_code=200)
@raises(SessionNotFresh, TooManyAttempts, Vetoed)
async def change_password(
    request: Request[Any, Any, Any],
    data: JSONBody[schemas.ChangePassword],
    db: DB,
    auth: Auth,
    user: CurrentUser,
) -> Response[Any]:
    """Change the password (fresh session and current one required); this client gets a new session token."""
    result = await flows.password.change_password(
        auth, db, request_meta(request), user, data.current_password, data.new_password, data.revoke_other_sessions
    )
    return _signed_in(request, result, {"token": None, "user": schemas.user_json(result.user)})


@post("/change-email", status_code=200)
@raises(SessionNotFresh, TooManyAttempts)
async def change_email(
    request: Request[Any, Any, Any], data: JSONBody[schemas.ChangeEmail], db: DB, auth: Auth, user: CurrentUser
) -> dict[str, Any]:
    """Start an email change: confirm from the new address, notice to the old one."""
    await flows.email.change_email(auth, db, request_meta(request), user, data.new_email, data.callback_url)
    return OK


@post("/update-user", status_code=200)
async def update_user(
    request: Request[Any, Any, Any], data: JSONBody[schemas.UpdateUser], db: DB, auth: Auth, user: CurrentUser
) -> dict[str, Any]:
    """Change the display name or avatar URL."""
    await flows.account.update_user(auth, db, request_meta(request), user, data.name, data.image)
    return OK


@post("/delete-user", status_code=200)
@raises(SessionNotFresh, TooManyAttempts, Vetoed)
async def delete_user(
    request: Request[Any, Any, Any], data: JSONBody[schemas.DeleteUser], db: DB, auth: Auth, user: CurrentUser
) -> Response[Any]:
    """Delete the account: needs the password or a fresh session."""
    await flows.account.delete_user(auth, db, request_meta(request), user, data.password)
    return Response({"success": True, "message": "User deleted"}, cookies=auth.sessions.clear_cookies())


@get("/list-sessions")
async def list_sessions(db: DB, sessions: Control, user: CurrentUser) -> list[dict[str, Any]]:
    """The signed-in user's active sessions; each `token` is the session's public id, never its secret."""
    return [schemas.session_json(row) for row in await sessions.active(db, user)]


@post("/revoke-session", status_code=200)
@raises(SessionNotFound)
async def revoke_session(
    request: Request[Any, Any, Any], data: JSONBody[schemas.RevokeSession], db: DB, sessions: Control, user: CurrentUser
) -> Response[Any]:
    """Sign out one of the user's sessions by its id (the `token` of list-sessions)."""
    try:
        session_id = uuid.UUID(data.token)
    except ValueError as error:
        raise SessionNotFound() from error
    await sessions.revoke(db, request_meta(request), user, session_id)
    cookies = sessions.sessions.clear_cookies() if session_id == user.session_id else []
    return Response(OK, cookies=cookies)


@post("/revoke-other-sessions", status_code=200)
async def revoke_other_sessions(
    request: Request[Any, Any, Any], db: DB, sessions: Control, user: CurrentUser
) -> dict[str, Any]:
    """Sign out every session of the user but this one."""
    await sessions.revoke_others(db, request_meta(request), user)
    return OK


@post("/revoke-sessions", status_code=200)
async def revoke_sessions(
    request: Request[Any, Any, Any], db: DB, sessions: Control, user: CurrentUser
) -> Response[Any]:
    """Sign out everywhere, this session included."""
    await sessions.revoke_all(db, request_meta(request), user)
    return Response(OK, cookies=sessions.sessions.clear_cookies())


router = Router(
    path="/api/auth",
    route_handlers=[
        sign_up_email,
        sign_in_email,
        sign_out,
        get_session,
        send_verification_email,
        verify_email,
        request_password_reset,
        reset_password,
        change_password,
        change_email,
        update_user,
        delete_user,
        list_sessions,
        revoke_session,
        revoke_other_sessions,
        revoke_sessions,
    ],
    tags=["auth"],
)
