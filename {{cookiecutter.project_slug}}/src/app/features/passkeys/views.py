"""HTML side of passkeys: the card on the security page, and its rename and remove forms.

Creating a passkey needs the browser's WebAuthn API, so the "Add a passkey" button works through
static/passkeys/passkeys.js and the JSON API; renaming and removing are plain forms that work
without JavaScript. A form with an error shows the security page again, with the message on the card.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, post
from litestar.di import Provide
from litestar.params import FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import DB, Control, CurrentUser, Principal, fresh_session, render_security, request_meta
from app.core.errors import AppError
from app.core.ui import form_data, redirect
from app.features.passkeys.service import user_passkeys
from app.features.passkeys.web import PasskeyService, provide_passkeys

SECURITY_PAGE = "/account/security"

# Flash notices of the passkey pages (UI.notices, see the feature's FEATURE).
NOTICES = {
    "passkey-added": "Your passkey has been added: you can use it to sign in.",
    "passkey-renamed": "Your passkey has been renamed.",
    "passkey-removed": "Your passkey has been removed.",
}


async def section_context(db: AsyncSession, user: Principal) -> dict[str, Any]:
    """What the passkey card needs: the user's passkeys."""
    return {"passkeys": await user_passkeys(db, user.user_id)}


@post("/account/passkeys/{passkey_id:str}/rename")
async def rename_submit(
    request: Request[Any, Any, Any],
    passkey_id: FromPath[str],
    db: DB,
    sessions: Control,
    user: CurrentUser,
    passkeys: PasskeyService,
) -> Any:
    """Rename a passkey."""
    form = await form_data(request, ["name"])
    try:
        await passkeys.rename(db, request_meta(request), user, passkey_id, form["name"])
    except AppError as error:
        status = 404 if error.status_code == 404 else 422
        return await render_security(
            request,
            db,
            sessions,
            user,
            status_code=status,
            passkey_error=error.message,
            passkey_editing=passkey_id,
            passkey_name=form["name"],
        )
    return redirect(request, SECURITY_PAGE, notice="passkey-renamed")


@post("/account/passkeys/{passkey_id:str}/delete", guards=[fresh_session(SECURITY_PAGE)])
async def delete_submit(
    request: Request[Any, Any, Any],
    passkey_id: FromPath[str],
    db: DB,
    sessions: Control,
    user: CurrentUser,
    passkeys: PasskeyService,
) -> Any:
    """Remove a passkey (fresh session); the last way to sign in is refused with the reason."""
    try:
        await passkeys.delete(db, request_meta(request), user, passkey_id)
    except AppError as error:
        status = 404 if error.status_code == 404 else 409
        return await render_security(request, db, sessions, user, status_code=status, passkey_error=error.message)
    return redirect(request, SECURITY_PAGE, notice="passkey-removed")


VIEWS = Router(
    "/",
    route_handlers=[rename_submit, delete_submit],
    dependencies={"passkeys": Provide(provide_passkeys, sync_to_thread=False)},
    include_in_schema=False,
)
