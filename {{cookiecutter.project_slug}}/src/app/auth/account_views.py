"""HTML pages of a signed-in user: home, account (profile, email) and security (password, sessions, deletion).

The sensitive forms need a fresh session: their guard sends a stale one to re-authenticate and
back here with `?resume=<handle>`, and the page puts the kept fields (never passwords) back.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from app.auth import flows
from app.auth.guards import fresh_session
from app.auth.web import DB, Auth, Control, CurrentUser, Resumed, request_meta
from app.core.errors import AppError, InvalidInput
from app.core.ui import form_data, form_error, form_error_status, page, redirect

ACCOUNT_PAGE = "/account"
SECURITY_PAGE = "/account/security"
# Which card of the security page a kept form belongs to, and what finishing it takes.
SECURITY_FORMS = {
    "/account/password": ("password", "Passwords are never kept: type them again to finish."),
    "/account/delete": ("delete", "Press “Delete my account” again to finish."),
    "/account/sessions/revoke": ("sessions", "Press “Sign out” on the highlighted device again to finish."),
    "/account/sessions/revoke-others": ("sessions", "Press “Sign out other devices” again to finish."),
    "/account/sessions/revoke-all": ("sessions", "Press “Sign out everywhere” again to finish."),
}


def _error_context(
    error: AppError, form: dict[str, str], section: str, renamed: dict[str, str] | None = None
) -> dict[str, Any]:
    """What re-rendering a form of `section` with its error needs (see app.core.ui.form_error)."""
    if error.status_code in (401, 403):
        raise error  # sign-in or re-authentication first: the error handler redirects
    return {"status_code": form_error_status(error), **form_error(error, form, renamed), "section": section}


def _error(
    request: Request[Any, Any, Any], template: str, error: AppError, form: dict[str, str], section: str
) -> Template:
    return page(request, template, **_error_context(error, form, section))


@get("/", name="home")
async def home(request: Request[Any, Any, Any], user: CurrentUser) -> Template:
    """The protected home page."""
    return page(request, "home.html")


@get("/account")
async def account_page(request: Request[Any, Any, Any], user: CurrentUser, resumed: Resumed) -> Template:
    """Profile and email (with the new address kept, back from re-authentication)."""
    if resumed is not None and resumed.action == "/account/email":
        form = {"name": user.name, "email": resumed.fields.get("email", "")}
        hint = "We kept the address you typed: press “Change email” again to finish."
        return page(request, "auth/account.html", form=form, resumed="email", resume_hint=hint)
    return page(request, "auth/account.html", form={"name": user.name})


@post("/account")
async def account_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Any:
    """Save the display name."""
    form = await form_data(request, ["name"])
    try:
        await flows.account.update_user(auth, db, request_meta(request), user, form["name"])
    except AppError as error:
        return _error(request, "auth/account.html", error, form, "profile")
    return redirect(request, "/account", notice="profile-updated")


@post("/account/email", guards=[fresh_session(ACCOUNT_PAGE)])
async def change_email_submit(request: Request[Any, Any, Any], db: DB, auth: Auth, user: CurrentUser) -> Any:
    """Start an email change (needs a fresh session: otherwise the password is asked first)."""
    form = await form_data(request, ["email"])
    try:
        await flows.email.change_email(auth, db, request_meta(request), user, form["email"])
    except AppError as error:
        if isinstance(error, InvalidInput):
            error = InvalidInput(error.message, field="email")
        return _error(request, "auth/account.html", error, form | {"name": user.name}, "email")
    return redirect(request, "/account", notice="email-change-sent")


@get("/account/security")
async def security_page(
    request: Request[Any, Any, Any], db: DB, sessions: Control, user: CurrentUser, resumed: Resumed
) -> Template:
    """Password, the session list, and account deletion."""
    return await render_security(request, db, sessions, user, resumed=resumed)


async def render_security(
    request: Request[Any, Any, Any],
    db: DB,
    sessions: Control,
    user: CurrentUser,
    resumed: Resumed = None,
    **context: Any,
) -> Template:
    """The security page; features re-render it with their card's error through `**context`."""
    if resumed is not None and resumed.action in SECURITY_FORMS:
        section, hint = SECURITY_FORMS[resumed.action]
        context |= {"form": resumed.fields, "resumed": section, "resume_hint": hint}
    settings = request.app.state.settings.auth
    state = request.app.state
    sections = state.ui.sections
    security = {s.key: await s.context(db, user) for s in sections if s.context is not None}
    gate = state.auth.gate
    trusted = await gate.trusted_devices(db, user.user_id, request.cookies.get(gate.trust_cookie_name))
    return page(
        request,
        "auth/security.html",
        sessions=await sessions.rows(db, user),
        cookie_cache_max_age=settings.cookie_cache_max_age if settings.cookie_cache else None,
        trusted_devices=trusted,
        security_sections=[section.template for section in sections],
        security=security,
        **context,
    )


@post("/account/password", guards=[fresh_session(SECURITY_PAGE)])
async def change_password_submit(
    request: Request[Any, Any, Any], db: DB, auth: Auth, sessions: Control, user: CurrentUser
) -> Any:
    """Change the password; optionally sign out every other session."""
    form = await form_data(request, ["current_password", "new_password", "revoke_others"])
    try:
        result = await flows.password.change_password(
            auth,
            db,
            request_meta(request),
            user,
            form["current_password"],
            form["new_password"],
            form["revoke_others"] == "on",
        )
    except AppError as error:
        renamed = {"currentPassword": "current_password", "newPassword": "new_password"}
        context = _error_context(error, form, "password", renamed)
        return await render_security(request, db, sessions, user, **context)
    cookie = auth.session_cookie(result)
    return redirect(request, "/account/security", notice="password-changed", cookies=[cookie])


@post("/account/delete", guards=[fresh_session(SECURITY_PAGE)])
async def delete_account_submit(
    request: Request[Any, Any, Any], db: DB, auth: Auth, sessions: Control, user: CurrentUser
) -> Any:
    """Delete the account after a typed confirmation (and a fresh session)."""
    form = await form_data(request, ["confirm"])
    if form["confirm"].strip().lower() != user.email.lower():
        typed = "Type your email address to confirm." if not form["confirm"].strip() else None
        error = InvalidInput(typed or f"That is not your email address ({user.email}).", field="confirm")
        return await render_security(request, db, sessions, user, **_error_context(error, form, "delete"))
    await flows.account.delete_user(auth, db, request_meta(request), user)
    return redirect(request, "/sign-in", notice="account-deleted", cookies=auth.sessions.clear_cookies())


ACCOUNT_VIEWS = [
    home,
    account_page,
    account_submit,
    change_email_submit,
    security_page,
    change_password_submit,
    delete_account_submit,
]
