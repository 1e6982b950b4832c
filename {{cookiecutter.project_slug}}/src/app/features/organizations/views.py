"""HTML pages of organizations: list, create, settings (general, members, invitations), delete, switch.

Every page under /organizations/{org_id} is guarded like the API: outsiders get 404, members
without the permission 403, and each page shows only the actions the caller's role allows.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Template

from app.auth import DB, CurrentUser, Resumed, fresh_session, request_meta
from app.core.errors import AppError
from app.core.redirects import safe_redirect
from app.core.ui import form_data, form_error, page, redirect
from app.features.organizations import access
from app.features.organizations.errors import OrganizationNotFound
from app.features.organizations.invitations import Invitations
from app.features.organizations.service import Access, Organizations
from app.features.organizations.web import (
    drop_session_snapshot,
    provide_access,
    provide_invitations,
    provide_organizations,
    scoped,
)

PATH = "/organizations"
Orgs = NamedDependency[Organizations]
Invites = NamedDependency[Invitations]
Caller = NamedDependency[Access]
SECTIONS = {"general": "", "members": "/members", "invitations": "/invitations"}


# Flash notices (UI.notices, see the feature's FEATURE): shown once on the next page, never from a query string.
NOTICES = {
    "organization-created": "The organization is created, and active for this session.",
    "organization-joined": "Welcome: you are now a member.",
    "organization-saved": "The organization's settings are saved.",
    "member-role-changed": "The role has been changed.",
    "member-removed": "The member has been removed.",
    "organization-left": "You have left the organization.",
    "invitation-sent": "The invitation is on its way.",
    "invitation-resent": "The invitation has been sent again, with a new link.",
    "invitation-canceled": "The invitation has been canceled: its link no longer works.",
    "organization-deleted": "The organization has been deleted.",
}


def org_path(organization_id: uuid.UUID | str, section: str = "general") -> str:
    """The settings page of an organization (a section of it)."""
    return f"{PATH}/{organization_id}{SECTIONS[section]}"


async def fresh_here(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """`fresh_session` for a page whose path holds an id: come back to the same page, form kept."""
    checked = fresh_session(connection.scope["path"])(connection, handler)
    if checked is not None:
        await checked


@get(PATH)
async def organizations_page(request: Request[Any, Any, Any], db: DB, user: CurrentUser, orgs: Orgs) -> Template:
    """The user's organizations."""
    rows = await orgs.memberships(db, user.user_id)
    active = await orgs.active_id(db, user.session_id)
    return page(request, "organizations/list.html", rows=rows, active_id=active, labels=access.ROLE_LABELS)


@get(PATH + "/new")
async def new_organization_page(request: Request[Any, Any, Any], user: CurrentUser) -> Template:
    """The form to create an organization."""
    return page(request, "organizations/new.html")


@post(PATH + "/new")
async def create_organization_submit(request: Request[Any, Any, Any], db: DB, user: CurrentUser, orgs: Orgs) -> Any:
    """Create the organization; the creator is its owner and it becomes active."""
    form = await form_data(request, ["name", "slug", "logo"])
    try:
        org = await orgs.create(db, request_meta(request), user, form["name"], form["slug"], form["logo"])
    except AppError as error:
        return page(request, "organizations/new.html", status_code=422, **form_error(error, form))
    return redirect(request, org_path(org.id), notice="organization-created")


async def _settings(
    request: Request[Any, Any, Any],
    db: DB,
    caller: Access,
    orgs: Organizations,
    invitations: Invitations,
    section: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    org = await orgs.get(db, caller.organization_id)
    members = await orgs.members(db, org.id) if section == "members" else []
    pending = await invitations.pending(db, org.id) if section == "invitations" else []
    can = {
        "edit": caller.can("organization:update"),  # not "update": Jinja would find the dict method
        "delete": caller.can("organization:delete"),
        "update_member": caller.can("member:update"),
        "remove_member": caller.can("member:delete"),
        "invite": caller.can("invitation:create"),
        "cancel": caller.can("invitation:cancel"),
    }
    defaults: dict[str, Any] = {"form": {"name": org.name, "slug": org.slug, "logo": org.logo or "", "role": "member"}}
    return page(
        request,
        "organizations/settings.html",
        status_code=status_code,
        org=org,
        section=section,
        me=caller,
        can=can,
        members=members,
        invitations=pending,
        labels=access.ROLE_LABELS,
        grantable=access.grantable(caller.role),
        outranks=access.outranks,
        **(defaults | context),
    )


@get(PATH + "/{org_id:uuid}", **scoped())
async def general_page(
    request: Request[Any, Any, Any], db: DB, caller: Caller, orgs: Orgs, invitations: Invites
) -> Template:
    """Name, slug and logo (editable by owners and admins)."""
    return await _settings(request, db, caller, orgs, invitations, "general")


@post(PATH + "/{org_id:uuid}", **scoped("organization:update"))
async def update_submit(
    request: Request[Any, Any, Any], db: DB, caller: Caller, orgs: Orgs, invitations: Invites
) -> Any:
    """Save the name, slug and logo."""
    form = await form_data(request, ["name", "slug", "logo"])
    try:
        await orgs.update(db, request_meta(request), caller, form["name"], form["slug"], form["logo"])
    except AppError as error:
        return await _settings(request, db, caller, orgs, invitations, "general", 422, **form_error(error, form))
    return redirect(request, org_path(caller.organization_id), notice="organization-saved")


@get(PATH + "/{org_id:uuid}/members", **scoped())
async def members_page(
    request: Request[Any, Any, Any], db: DB, caller: Caller, orgs: Orgs, invitations: Invites
) -> Template:
    """Members and their roles; the actions the caller's role allows."""
    return await _settings(request, db, caller, orgs, invitations, "members")


@post(PATH + "/{org_id:uuid}/members/{member_id:uuid}/role", **scoped("member:update"))
async def role_submit(
    request: Request[Any, Any, Any],
    db: DB,
    caller: Caller,
    orgs: Orgs,
    invitations: Invites,
    member_id: FromPath[uuid.UUID],
) -> Any:
    """Change a member's role."""
    form = await form_data(request, ["role"])
    try:
        await orgs.update_role(db, request_meta(request), caller, member_id, form["role"])
    except AppError as error:
        if error.status_code == 404:
            raise
        return await _settings(request, db, caller, orgs, invitations, "members", 422, form_error=error.message)
    return redirect(request, org_path(caller.organization_id, "members"), notice="member-role-changed")


@post(PATH + "/{org_id:uuid}/members/{member_id:uuid}/remove", **scoped("member:delete"))
async def remove_submit(
    request: Request[Any, Any, Any],
    db: DB,
    caller: Caller,
    orgs: Orgs,
    invitations: Invites,
    member_id: FromPath[uuid.UUID],
) -> Any:
    """Remove a member."""
    target = await orgs.member(db, caller.organization_id, member_id)
    try:
        await orgs.remove_member(db, request_meta(request), caller, target)
    except AppError as error:
        return await _settings(request, db, caller, orgs, invitations, "members", 422, form_error=error.message)
    return redirect(request, org_path(caller.organization_id, "members"), notice="member-removed")


@post(PATH + "/{org_id:uuid}/leave", **scoped())
async def leave_submit(
    request: Request[Any, Any, Any], db: DB, caller: Caller, orgs: Orgs, invitations: Invites
) -> Any:
    """Leave the organization."""
    try:
        await orgs.leave(db, request_meta(request), caller)
    except AppError as error:
        return await _settings(request, db, caller, orgs, invitations, "members", 422, form_error=error.message)
    return redirect(request, PATH, notice="organization-left")


@get(PATH + "/{org_id:uuid}/invitations", **scoped())
async def invitations_page(
    request: Request[Any, Any, Any], db: DB, caller: Caller, orgs: Orgs, invitations: Invites
) -> Template:
    """Pending invitations, and the form to invite someone."""
    return await _settings(request, db, caller, orgs, invitations, "invitations")


@post(PATH + "/{org_id:uuid}/invitations", **scoped("invitation:create"))
async def invite_submit(
    request: Request[Any, Any, Any], db: DB, user: CurrentUser, caller: Caller, orgs: Orgs, invitations: Invites
) -> Any:
    """Mail an invitation."""
    form = await form_data(request, ["email", "role"])
    try:
        await invitations.invite(db, request_meta(request), caller, user.name, form["email"], form["role"])
    except AppError as error:
        return await _settings(request, db, caller, orgs, invitations, "invitations", 422, **form_error(error, form))
    return redirect(request, org_path(caller.organization_id, "invitations"), notice="invitation-sent")


@post(PATH + "/{org_id:uuid}/invitations/{invitation_id:uuid}/resend", **scoped("invitation:create"))
async def resend_submit(
    request: Request[Any, Any, Any],
    db: DB,
    user: CurrentUser,
    caller: Caller,
    orgs: Orgs,
    invitations: Invites,
    invitation_id: FromPath[uuid.UUID],
) -> Any:
    """Mail an invitation again with a new link."""
    try:
        await invitations.resend(db, request_meta(request), caller, user.name, invitation_id)
    except AppError as error:
        if error.status_code == 404:
            raise
        return await _settings(request, db, caller, orgs, invitations, "invitations", 422, form_error=error.message)
    return redirect(request, org_path(caller.organization_id, "invitations"), notice="invitation-resent")


@post(PATH + "/{org_id:uuid}/invitations/{invitation_id:uuid}/cancel", **scoped("invitation:cancel"))
async def cancel_submit(
    request: Request[Any, Any, Any], db: DB, caller: Caller, invitations: Invites, invitation_id: FromPath[uuid.UUID]
) -> Any:
    """Withdraw an invitation."""
    await invitations.cancel(db, request_meta(request), caller, invitation_id)
    return redirect(request, org_path(caller.organization_id, "invitations"), notice="invitation-canceled")


@get(PATH + "/{org_id:uuid}/delete", **scoped("organization:delete"))
async def delete_page(
    request: Request[Any, Any, Any], db: DB, caller: Caller, orgs: Orgs, resumed: Resumed
) -> Template:
    """Confirm the deletion by typing the slug."""
    org = await orgs.get(db, caller.organization_id)
    form = dict(resumed.fields) if resumed else {}
    return page(request, "organizations/delete.html", org=org, form={"confirm": form.get("confirm", "")})


@post(
    PATH + "/{org_id:uuid}/delete",
    guards=[*scoped("organization:delete")["guards"], fresh_here],
    opt={"permission": "organization:delete"},
)
async def delete_submit(request: Request[Any, Any, Any], db: DB, user: CurrentUser, caller: Caller, orgs: Orgs) -> Any:
    """Delete the organization once its slug is typed."""
    org = await orgs.get(db, caller.organization_id)
    form = await form_data(request, ["confirm"])
    if form["confirm"].strip() != org.slug:
        message = f"Type {org.slug} to confirm."
        return page(
            request, "organizations/delete.html", status_code=422, org=org, form=form, errors={"confirm": message}
        )
    await orgs.delete(db, request_meta(request), user, caller)
    return redirect(request, PATH, notice="organization-deleted")


@post(PATH + "/switch")
async def switch_submit(request: Request[Any, Any, Any], db: DB, user: CurrentUser, orgs: Orgs) -> Any:
    """Make another organization active (from the switcher), and go back to the page the user was on."""
    form = await form_data(request, ["organizationId", "next"])
    try:
        organization_id = uuid.UUID(form["organizationId"])
    except ValueError:
        raise OrganizationNotFound() from None
    await orgs.set_active(db, request_meta(request), user, organization_id)
    target = safe_redirect(form["next"], [], default=PATH)
    if target.startswith(PATH + "/") and target != PATH + "/new":
        target = org_path(organization_id)  # another organization's page would now be the wrong one
    return redirect(request, target)


@get(PATH + "/switcher")
async def switcher_fragment(request: Request[Any, Any, Any], db: DB, user: CurrentUser, orgs: Orgs) -> Template:
    """The org switcher of the page header (loaded by htmx into every page of a signed-in user)."""
    rows = await orgs.memberships(db, user.user_id)
    active = await orgs.active_id(db, user.session_id)
    current = request.headers.get("hx-current-url", "")
    back = safe_redirect("/" + current.split("/", 3)[-1] if current.startswith("http") else current, [], default="/")
    return page(request, "organizations/switcher.html", rows=rows, active_id=active, back=back)


VIEWS = Router(
    "/",
    route_handlers=[
        organizations_page,
        new_organization_page,
        create_organization_submit,
        general_page,
        update_submit,
        members_page,
        role_submit,
        remove_submit,
        leave_submit,
        invitations_page,
        invite_submit,
        resend_submit,
        cancel_submit,
        delete_page,
        delete_submit,
        switch_submit,
        switcher_fragment,
    ],
    dependencies={
        "orgs": Provide(provide_organizations, sync_to_thread=False),
        "invitations": Provide(provide_invitations, sync_to_thread=False),
        "caller": Provide(provide_access, sync_to_thread=False),
    },
    include_in_schema=False,
    middleware=[drop_session_snapshot],
)
