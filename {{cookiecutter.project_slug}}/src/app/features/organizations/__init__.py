"""Organizations: teams with owners, admins and members, invitations by email, and an active organization.

Roles are permission statements in app.features.organizations.access; routes are protected by
`requires_permission(...)` (app.features.organizations.web). Each session has an active
organization, chosen with the switcher in the page header and reported by `get-session`; at
sign-in the one the user last used becomes active again. See docs/organizations.md.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from app.auth.sessions import Principal
from app.core.db import DirectReader
from app.core.events import EventName
from app.core.features import Feature, NavEntry
from app.features.organizations.invitation_views import INVITATION_VIEWS
from app.features.organizations.lifecycle import on_session_created, on_user_deleted
from app.features.organizations.routes import API
from app.features.organizations.service import ACTIVE_ORGANIZATION
from app.features.organizations.views import PATH, VIEWS

HERE = Path(__file__).resolve().parent


async def active_organization(reader: DirectReader, principal: Principal) -> dict[str, Any]:
    """`activeOrganizationId` in get-session's `session`, as Better Auth's plugin reports it.

    One direct read (get-session is a hot path): the same query as `Organizations.active_id`.
    """
    row = await reader.first(ACTIVE_ORGANIZATION, {"session_id": principal.session_id})
    active = row["organization_id"] if row else None
    return {"activeOrganizationId": str(uuid.UUID(str(active))) if active else None}


FEATURE = Feature(
    name="organizations",
    route_handlers=[API, VIEWS, INVITATION_VIEWS],
    templates_dir=HERE / "templates",
    static_dir=HERE / "static",
    migrations_dir=HERE / "migrations",
    listeners=[(EventName.SESSION_CREATED, on_session_created), (EventName.USER_DELETED, on_user_deleted)],
    nav=[NavEntry("Organizations", PATH)],
    header_items=["organizations/header.html"],
    session_extras=[active_organization],
    scripts=["/static/organizations/organizations.js"],
    stylesheets=["/static/organizations/organizations.css"],
)
