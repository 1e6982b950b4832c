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
from app.core.events import EventName
from app.core.ui import UI, NavEntry
from app.features.base import Feature
from app.features.organizations.invitation_views import INVITATION_VIEWS
from app.features.organizations.lifecycle import on_session_created, on_user_deleted
from app.features.organizations.models import ActiveOrganization, Member
from app.features.organizations.routes import API
from app.features.organizations.service import Organizations
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
    listeners=[(EventName.SESSION_CREATED, on_session_created), (EventName.USER_DELETED, on_user_deleted)],
    session_fields=[ACTIVE_ORGANIZATION_ID],
    ui=UI(
        nav=[NavEntry("Organizations", PATH)],
        slots={"header": ["organizations/header.html"]},
        scripts=["/static/organizations/organizations.js"],
        stylesheets=["/static/organizations/organizations.css"],
        notices=NOTICES,
    ),
)
