"""HTML side of passkeys: the card on the security page, and its rename and remove forms.

Creating a passkey needs the browser's WebAuthn API, so the "Add a passkey" button works through
static/passkeys/passkeys.js and the JSON API; renaming and removing are plain forms that work
without JavaScript. A form with an error is shown again on /account/passkeys, the card alone.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.guards import fresh_session
from app.auth.sessions import Principal
from app.auth.web import DB, CurrentUser, request_meta
from app.core.errors import AppError
from app.core.ui import NOTICES, form_data, page, redirect
from app.features.passkeys.service import Passkeys, user_passkeys
from app.features.passkeys.web import PasskeyService, provide_passkeys

SECURITY_PAGE = "/account/security"
PAGE = "/account/passkeys"

# Flash notices are keys into the core's table; these are the passkey ones.
NOTICES.update(
    {
        "passkey-added": "Your passkey has been added: you can use it to sign in.",
        "passkey-renamed": "Your passkey has been renamed.",
        "passkey-removed": "Your passkey has been removed.",
    }
)


async def section_context(db: AsyncSession, user: Principal) -> dict[str, Any]:
    """What the passkey card needs: the user's passkeys."""
    return {"passkeys": await user_passkeys(db, user.user_id)}


async def _card_page(
    request: Request[Any, Any, Any], db: DB, user: Principal, passkeys: Passkeys, status_code: int = 200, **extra: Any
) -> Template:
    context = await section_context(db, user)
    return page(request, "passkeys/manage.html", status_code=status_code, section_context=context | extra)


@get(PAGE)
async def passkeys_page(
    request: Request[Any, Any, Any], db: DB, user: CurrentUser, passkeys: PasskeyService
) -> Template:
    """The passkey card on a page of its own (where its forms come back with an error)."""
    return await _card_page(request, db, user, passkeys)


@post(PAGE + "/{passkey_id:str}/rename")
async def rename_submit(
    request: Request[Any, Any, Any], passkey_id: FromPath[str], db: DB, user: CurrentUser, passkeys: PasskeyService
) -> Any:
    """Rename a passkey."""
    form = await form_data(request, ["name"])
    try:
        await passkeys.rename(db, request_meta(request), user, passkey_id, form["name"])
    except AppError as error:
        return await _card_page(
            request,
            db,
            user,
            passkeys,
            422 if error.status_code != 404 else 404,
            editing=passkey_id,
            error=error.message,
            submitted=form,
        )
    return redirect(request, SECURITY_PAGE, notice="passkey-renamed")


@post(PAGE + "/{passkey_id:str}/delete", guards=[fresh_session(SECURITY_PAGE)])
async def delete_submit(
    request: Request[Any, Any, Any], passkey_id: FromPath[str], db: DB, user: CurrentUser, passkeys: PasskeyService
) -> Any:
    """Remove a passkey (fresh session); the last way to sign in is refused with the reason."""
    try:
        await passkeys.delete(db, request_meta(request), user, passkey_id)
    except AppError as error:
        status = 404 if error.status_code == 404 else 409
        return await _card_page(request, db, user, passkeys, status, removing=passkey_id, error=error.message)
    return redirect(request, SECURITY_PAGE, notice="passkey-removed")


VIEWS = Router(
    "/",
    route_handlers=[passkeys_page, rename_submit, delete_submit],
    dependencies={"passkeys": Provide(provide_passkeys, sync_to_thread=False)},
    include_in_schema=False,
)
