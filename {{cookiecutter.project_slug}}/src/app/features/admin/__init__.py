"""The admin console: find users, end their sessions, ban, set roles, verify and delete.

A dashboard at /admin, pages under /admin/users, the audit log at /admin/audit (filtered,
exported), and Better Auth's admin API under /api/auth/admin/ (its `adminClient` works
unmodified). Access is by role, as permission statements (app.features.admin.access); every
route answers 404 to anyone without an admin permission, is rate limited (ADMIN_RATE_LIMIT),
needs a fresh session to change anything, and is audited. `app users promote EMAIL` makes the
first admin. See docs/admin.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.auth import AuthKit
from app.core.event_catalogue import EventInfo
from app.core.ui import UI, NavEntry
from app.features.admin import access, impersonation
from app.features.admin.audit_log import AUDIT_EXPORTED
from app.features.admin.audit_views import AUDIT_PATH, AUDIT_VIEWS
from app.features.admin.cli import users_group
from app.features.admin.dashboard_views import DASHBOARD
from app.features.admin.dashboard_views import PATH as HOME
from app.features.admin.impersonation_views import IMPERSONATION
from app.features.admin.impersonation_views import NOTICES as IMPERSONATION_NOTICES
from app.features.admin.routes import API
from app.features.admin.service import RESET_SENT, ROLE_SET, USER_CREATED_BY_ADMIN, Admin
from app.features.admin.settings import AdminSettings
from app.features.admin.user_actions import ACTIONS, NOTICES
from app.features.admin.views import PATH, VIEWS
from app.features.admin.web import RATE_LIMIT_RULE, STATE_KEY
from app.features.base import Feature, Paths
from app.settings import Settings

HERE = Path(__file__).resolve().parent

# What the console does to users besides the auth core's own events (user.banned, session.revoked ...).
EVENTS = {
    USER_CREATED_BY_ADMIN: EventInfo("An admin created the account (`role`)", "the admin", "user"),
    ROLE_SET: EventInfo(
        "The user's role was set (`role`, `previous`)", "an admin (nobody from `app users promote`)", "user"
    ),
    RESET_SENT: EventInfo(
        "An admin had a password-reset link mailed to the user (the admin never sees it)", "the admin", "user"
    ),
    impersonation.STARTED: EventInfo(
        "An admin began acting as the user, in a session of its own (`session_id`, `expires_at`)", "the admin", "user"
    ),
    impersonation.STOPPED: EventInfo(
        "The admin stopped acting as the user, and that session ended (`session_id`)", "the admin", "user"
    ),
    AUDIT_EXPORTED: EventInfo(
        "An admin downloaded the audit log, or part of it (`format`, `filters`)", "the admin", "audit_log"
    ),
}


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The console's service, in app.state (see app.features.admin.web.service_for); no sensitive
    action for an impersonation session (app.features.admin.impersonation)."""
    del settings
    kit.refuse_sensitive_when(impersonation.refuse_while_impersonating)
    return {STATE_KEY: Admin(kit)}


def rate_limits(settings: Settings) -> Mapping[str, int]:
    """ADMIN_RATE_LIMIT requests a minute per client IP on every console route."""
    return {RATE_LIMIT_RULE: settings.feature(AdminSettings).rate_limit}


FEATURE = Feature(
    name="admin",
    routes=[API, DASHBOARD, VIEWS, ACTIONS, AUDIT_VIEWS, *IMPERSONATION],
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    settings=AdminSettings,
    setup=setup,
    events=EVENTS,
    cli=[users_group],
    session_fields=[impersonation.IMPERSONATED_BY],
    paths=Paths(no_store=["/admin"]),
    rate_limits=rate_limits,
    ui=UI(
        nav=[
            NavEntry("Dashboard", HOME, roles=access.holders("stats:view")),
            NavEntry("Users", PATH, roles=access.holders("user:list")),
            NavEntry("Audit log", AUDIT_PATH, roles=access.holders("audit:list")),
        ],
        slots={"banner": ["admin/impersonating.html"]},
        stylesheets=["/static/admin/admin.css"],
        labels={impersonation.METHOD: "An administrator (impersonation)"},
        notices=NOTICES | IMPERSONATION_NOTICES,
    ),
)
