"""Organizations: teams with owners, admins and members, invitations by email, and an active organization.

Roles are permission statements in app.features.organizations.access; routes are protected by
`requires_permission(...)` (app.features.organizations.web). Each session has an active
organization, chosen with the switcher in the page header and reported by `get-session`; at
sign-in the one the user last used becomes active again. See docs/organizations.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from app.auth import AuthKit, Session, SessionField
from app.core.event_catalogue import NOBODY, THE_USER, EventInfo
from app.core.events import EventName
from app.core.ui import UI, NavEntry, Section
from app.features.base import Feature
from app.features.organizations.invitation_views import INVITATION_VIEWS
from app.features.organizations.invitations import ACCEPTED_EVENT, CANCELED_EVENT, INVITED, REJECTED_EVENT, RESENT
from app.features.organizations.lifecycle import on_session_created, on_user_deleted
from app.features.organizations.models import ActiveOrganization, Member
from app.features.organizations.routes import API
from app.features.organizations.service import (
    ACTIVE_CHANGED,
    CREATED,
    DELETED,
    MEMBER_ADDED,
    MEMBER_LEFT,
    MEMBER_REMOVED,
    ROLE_UPDATED,
    UPDATED,
    Organizations,
)
from app.features.organizations.staff_section import staff_context
from app.features.organizations.views import NOTICES, PATH, VIEWS
from app.features.organizations.web import STATE_KEY
from app.settings import Settings

HERE = Path(__file__).resolve().parent


# `activeOrganizationId` in get-session's `session`, as Better Auth's plugin reports it: the
# session's active organization while its user is still a member of it (the same rule as
# `Organizations.active_id`), read by the session lookup itself.
ACTIVE_ORGANIZATION_ID = SessionField(
    "activeOrganizationId",
    select(ActiveOrganization.organization_id)
    .join(
        Member,
        (col(Member.organization_id) == col(ActiveOrganization.organization_id))
        & (col(Member.user_id) == col(Session.user_id)),
    )
    .where(col(ActiveOrganization.session_id) == col(Session.id))
    .scalar_subquery(),
)


# Who may do what is a permission of the member's role (app.features.organizations.access).
EVENTS = {
    CREATED: EventInfo("The user created an organization (`slug`) and became its owner", THE_USER, "organization"),
    UPDATED: EventInfo(
        "The organization's name, slug or logo changed (`fields`)",
        "a member allowed to (`organization:update`)",
        "organization",
    ),
    DELETED: EventInfo(
        "The organization was deleted, with its members and invitations (`slug`)",
        "a member allowed to (`organization:delete`)",
        "organization",
    ),
    MEMBER_ADDED: EventInfo(
        "A user joined the organization (`organization_id`, `role`): its creator, or by an invitation",
        "the user who joined",
        "member",
    ),
    MEMBER_REMOVED: EventInfo(
        "A member was removed (`organization_id`, `user_id`)", "a member allowed to (`member:delete`)", "member"
    ),
    MEMBER_LEFT: EventInfo("A member left the organization (`organization_id`, `user_id`)", "the member", "member"),
    ROLE_UPDATED: EventInfo(
        "A member's role changed (`old_role`, `role`)", "a member allowed to (`member:update`)", "member"
    ),
    ACTIVE_CHANGED: EventInfo(
        "The user switched the session's active organization (`organization_id`, empty for none)", THE_USER, "session"
    ),
    INVITED: EventInfo(
        "An invitation was mailed (`organization_id`, `role`)",
        "a member allowed to (`invitation:create`)",
        "invitation",
    ),
    RESENT: EventInfo(
        "An invitation was mailed again, with a new link", "a member allowed to (`invitation:create`)", "invitation"
    ),
    CANCELED_EVENT: EventInfo(
        "An invitation was withdrawn: its link stopped working",
        "a member allowed to (`invitation:cancel`)",
        "invitation",
    ),
    ACCEPTED_EVENT: EventInfo("The invited user accepted and joined (`role`)", "the invited user", "invitation"),
    REJECTED_EVENT: EventInfo(
        "The invitation was declined from its link",
        f"the invited user, or {NOBODY} (the link is enough)",
        "invitation",
    ),
}


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state (see app.features.organizations.web.service_for)."""
    del settings  # no ORGANIZATIONS_* settings
    return {STATE_KEY: Organizations(kit)}


FEATURE = Feature(
    name="organizations",
    routes=[API, VIEWS, INVITATION_VIEWS],
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    setup=setup,
    events=EVENTS,
    listeners=[(EventName.SESSION_CREATED, on_session_created), (EventName.USER_DELETED, on_user_deleted)],
    session_fields=[ACTIVE_ORGANIZATION_ID],
    ui=UI(
        nav=[NavEntry("Organizations", PATH)],
        slots={"header": ["organizations/header.html"]},
        staff_sections=[Section("organizations", "organizations/staff_section.html", staff_context)],
        scripts=["/static/organizations/organizations.js"],
        stylesheets=["/static/organizations/organizations.css"],
        notices=NOTICES,
    ),
)
