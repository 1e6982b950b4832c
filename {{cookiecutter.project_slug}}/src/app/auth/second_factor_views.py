"""The challenge page between the first and the second factor, and the trusted-device list's forms.

`/sign-in/second-factor` shows one partial per factor the pending user has enrolled (each
feature's `SecondFactor.template`); the features' own routes check the codes and call
`auth.finish_second_factor`. Without a valid pending cookie the page sends the visitor back to
sign in: the cookie alone never opens a session.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from app.auth.second_factor import pending_token
from app.auth.web import DB, Auth, CurrentUser, request_meta
from app.core.events import EventName
from app.core.redirects import safe_redirect
from app.core.security import trusted_origins
from app.core.ui import form_data, page, redirect

SECURITY_PAGE = "/account/security"


async def challenge_page(
    request: Request[Any, Any, Any],
    db: DB,
    auth: Auth,
    next_path: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template | Response[Any]:
    """Render the challenge (also with a factor's error, from the feature's route), or go back to sign-in."""
    pending = await auth.pending_second_factor(db, pending_token(request))
    target = safe_redirect(next_path or request.query_params.get("next"), trusted_origins(auth.settings), default="/")
    if pending is None:
        return redirect(request, "/sign-in", notice="second-factor-expired", cookies=[auth.gate.clear_pending_cookie()])
    factors = await auth.gate.enrolled(db, pending.user_id)
    return page(
        request,
        "auth/second_factor.html",
        status_code=status_code,
        factors=factors,
        factor_names=[factor.name for factor in factors],
        next=target,
        expires_at=pending.expires_at,
        **context,
    )


@get("/sign-in/second-factor")
async def second_factor_page(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Any:
    """Ask for the second factor of the pending sign-in."""
    return await challenge_page(request, db, auth)


@post("/sign-in/second-factor/cancel")
async def cancel_second_factor(request: Request[Any, Any, Any], db: DB, auth: Auth) -> Response[Any]:
    """Give the pending sign-in up (another account, or no code at hand)."""
    await auth.gate.claim(db, pending_token(request))
    await db.commit()
    return redirect(request, "/sign-in", notice="second-factor-cancelled", cookies=[auth.gate.clear_pending_cookie()])


@post("/account/trusted-devices/revoke")
async def revoke_trusted_device(
    request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser
) -> Response[Any]:
    """Make one browser (`device`=<id>) or all of them (`device`=all) ask for the second factor again.

    Taking trust away only lowers what a browser can do, so it needs no fresh session.
    """
    form = await form_data(request, ["device"])
    device: uuid.UUID | None = None
    if form["device"] != "all":
        try:
            device = uuid.UUID(form["device"])
        except ValueError:
            return redirect(request, SECURITY_PAGE, notice="trusted-device-revoked")
    count = await auth.gate.revoke_trust(db, user.user_id, device)
    if count:
        await auth.record(
            db,
            EventName.TRUSTED_DEVICE_REVOKED,
            request_meta(request),
            actor=user.user_id,
            target_type="user",
            target_id=user.user_id,
            count=count,
        )
    await db.commit()
    notice = "trusted-devices-revoked" if device is None else "trusted-device-revoked"
    return redirect(request, SECURITY_PAGE, notice=notice)


SECOND_FACTOR_VIEWS = [second_factor_page, cancel_second_factor, revoke_trusted_device]
