"""The admin console: find users, end their sessions, ban, set roles, verify and delete.

Pages under /admin/users and Better Auth's admin API under /api/auth/admin/ (its `adminClient`
works unmodified). Access is by role, as permission statements (app.features.admin.access);
every route answers 404 to anyone without an admin permission, is rate limited
(ADMIN_RATE_LIMIT), needs a fresh session to change anything, and is audited. `app users promote
EMAIL` makes the first admin. See docs/admin.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.auth import AuthKit
from app.core.ui import UI, NavEntry
from app.features.admin import access
from app.features.admin.cli import users_group
from app.features.admin.routes import API
from app.features.admin.service import Admin
from app.features.admin.settings import AdminSettings
from app.features.admin.views import NOTICES, PATH, VIEWS
from app.features.admin.web import RATE_LIMIT_RULE, STATE_KEY
from app.features.base import Feature, Paths
from app.settings import Settings

HERE = Path(__file__).resolve().parent


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The console's service, in app.state (see app.features.admin.web.service_for)."""
    del settings
    return {STATE_KEY: Admin(kit)}


def rate_limits(settings: Settings) -> Mapping[str, int]:
    """ADMIN_RATE_LIMIT requests a minute per client IP on every console route."""
    return {RATE_LIMIT_RULE: settings.feature(AdminSettings).rate_limit}


FEATURE = Feature(
    name="admin",
    routes=[API, VIEWS],
    templates=HERE / "templates",
    static=HERE / "static",
    settings=AdminSettings,
    setup=setup,
    cli=[users_group],
    paths=Paths(no_store=["/admin"]),
    rate_limits=rate_limits,
    ui=UI(nav=[NavEntry("Users", PATH, role=access.ADMIN)], stylesheets=["/static/admin/admin.css"], notices=NOTICES),
)
