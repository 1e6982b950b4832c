"""The session list's forms on the security page: sign out one device, the others, or everywhere.

Each works as a plain POST answered by a redirect; with htmx, signing out one device removes its
row in place (an empty answer swapped over the row) and announces it in the notice region.
Every one of them needs a fresh session (the guard sends a stale one to re-authenticate first).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import MediaType, Request, Response, post
from litestar.response import Template

from app.auth.guards import fresh_session
from app.auth.web import DB, Control, CurrentUser, request_meta
from app.core.errors import SessionNotFound
from app.core.ui import form_data, is_htmx, redirect

SECURITY_PAGE = "/account/security"
ROW_ID_PREFIX = "session-"


def _row_swap(request: Request[Any, Any, Any], message: str) -> Template | None:
    """For htmx aiming at a session row: an empty row (so it disappears) plus the spoken notice."""
    if not (is_htmx(request) and request.headers.get("hx-target", "").startswith(ROW_ID_PREFIX)):
        return None
    return Template(template_name="auth/session_removed.html", context={"message": message}, media_type=MediaType.HTML)


@post("/account/sessions/revoke", guards=[fresh_session(SECURITY_PAGE)])
async def revoke_session_submit(
    request: Request[Any, Any, Any], db: DB, sessions: Control, user: CurrentUser
) -> Response[Any]:
    """Sign out one device of the user."""
    form = await form_data(request, ["session"])
    notice = "session-revoked"
    try:
        await sessions.revoke(db, request_meta(request), user, uuid.UUID(form["session"]))
    except (ValueError, SessionNotFound):
        notice = "session-gone"  # signed out meanwhile (or not theirs): the row goes either way
    if (row := _row_swap(request, request.app.state.ui.notices[notice])) is not None:
        return row
    return redirect(request, SECURITY_PAGE, notice=notice)


@post("/account/sessions/revoke-others", guards=[fresh_session(SECURITY_PAGE)])
async def revoke_other_sessions_submit(
    request: Request[Any, Any, Any], db: DB, sessions: Control, user: CurrentUser
) -> Response[Any]:
    """Sign out every other device."""
    await sessions.revoke_others(db, request_meta(request), user)
    return redirect(request, SECURITY_PAGE, notice="other-sessions-revoked")


@post("/account/sessions/revoke-all", guards=[fresh_session(SECURITY_PAGE)])
async def revoke_all_sessions_submit(
    request: Request[Any, Any, Any], db: DB, sessions: Control, user: CurrentUser
) -> Response[Any]:
    """Sign out everywhere, this browser included."""
    await sessions.revoke_all(db, request_meta(request), user)
    return redirect(request, "/sign-in", notice="signed-out-everywhere", cookies=sessions.sessions.clear_cookies())


SESSION_VIEWS = [revoke_session_submit, revoke_other_sessions_submit, revoke_all_sessions_submit]
