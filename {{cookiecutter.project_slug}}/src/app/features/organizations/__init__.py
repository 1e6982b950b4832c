"""Organizations: teams with owners, admins and members, invitations by email, and an active organization.

Roles are permission statements in app.features.organizations.access; routes are protected by
`requires_permission(...)` (app.features.organizations.web). Each session has an active
organization, chosen with the switcher in the page header and reported by `get-session`; at
sign-in the one the user last used becomes active again. See docs/organizations.md.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from app.auth.models import Session
from app.core.events import EventName
from app.core.features import Feature, NavEntry, SessionField
from app.features.organizations.invitation_views import INVITATION_VIEWS
from app.features.organizations.lifecycle import on_session_created, on_user_deleted
from app.features.organizations.models import ActiveOrganization, Member
from app.features.organizations.routes import API
from app.features.organizations.views import PATH, VIEWS

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


FEATURE = Feature(
    name="organizations",
    route_handlers=[API, VIEWS, INVITATION_VIEWS],
    templates_dir=HERE / "templates",
    static_dir=HERE / "static",
    migrations_dir=HERE / "migrations",
    listeners=[(EventName.SESSION_CREATED, on_session_created), (EventName.USER_DELETED, on_user_deleted)],
    nav=[NavEntry("Organizations", PATH)],
    header_items=["organizations/header.html"],
    session_fields=[ACTIVE_ORGANIZATION_ID],
    scripts=["/static/organizations/organizations.js"],
    stylesheets=["/static/organizations/organizations.css"],
)
