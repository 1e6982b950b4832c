"""The page behind an invitation link: accept or decline it, signing up or in first if needed.

Someone without a session is offered sign-in and sign-up with `next` pointing back here, so
they land on this page again afterwards (app.core.redirects checks the target).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Template

from app.auth import DB, CurrentUser, MaybePrincipal, request_meta
from app.core.errors import AppError
from app.core.ui import form_data, page, redirect
from app.features.organizations import access
from app.features.organizations.errors import InvalidInvitation
from app.features.organizations.invitations import ACCEPT_PATH, Invitations
from app.features.organizations.views import org_path
from app.features.organizations.web import drop_session_snapshot, provide_invitations

TEMPLATE = "organizations/invitation.html"
Invites = NamedDependency[Invitations]


async def _show(
    request: Request[Any, Any, Any],
    db: DB,
    principal: MaybePrincipal,
    invitations: Invitations,
    token: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    try:
        view = await invitations.by_token(db, token)
    except InvalidInvitation as error:
        return page(request, TEMPLATE, status_code=400, invalid=error.message)
    back = f"{ACCEPT_PATH}?{urlencode({'token': token})}"
    return page(
        request,
        TEMPLATE,
        status_code=status_code,
        view=view,
        token=token,
        role=access.ROLE_LABELS.get(view.invitation.role, view.invitation.role),
        wrong_account=principal is not None and principal.email.lower() != view.invitation.email,
        sign_in_url="/sign-in?" + urlencode({"next": back}),
        sign_up_url="/sign-up?" + urlencode({"next": back}),
        **context,
    )


@get(ACCEPT_PATH)
async def invitation_page(
    request: Request[Any, Any, Any], db: DB, principal: MaybePrincipal, invitations: Invites, token: FromQuery[str] = ""
) -> Template:
    """Who invites you where, with Accept and Decline (or sign in / sign up first)."""
    return await _show(request, db, principal, invitations, token[:256])


@post(ACCEPT_PATH)
async def accept_submit(request: Request[Any, Any, Any], db: DB, user: CurrentUser, invitations: Invites) -> Any:
    """Join the organization (it becomes the active one)."""
    form = await form_data(request, ["token"])
    try:
        _, member = await invitations.accept(db, request_meta(request), user, form["token"])
    except AppError as error:
        return await _show(request, db, user, invitations, form["token"], 422, form_error=error.message)
    return redirect(request, org_path(member.organization_id), notice="organization-joined")


@post("/invitations/decline")
async def decline_submit(
    request: Request[Any, Any, Any], db: DB, principal: MaybePrincipal, invitations: Invites
) -> Any:
    """Decline the invitation; the link stops working."""
    form = await form_data(request, ["token"])
    try:
        view = await invitations.by_token(db, form["token"])
        await invitations.reject(db, request_meta(request), principal, form["token"])
    except AppError as error:
        return await _show(request, db, principal, invitations, form["token"], 422, form_error=error.message)
    return page(request, TEMPLATE, declined=view.organization.name)


INVITATION_VIEWS = Router(
    "/",
    route_handlers=[invitation_page, accept_submit, decline_submit],
    dependencies={"invitations": Provide(provide_invitations, sync_to_thread=False)},
    include_in_schema=False,
    middleware=[drop_session_snapshot],
)
