"""The console's home, /admin: the dashboard (figures in app.features.admin.dashboard, charts in .charts).

Guarded like every console page (404 to anyone outside the console); admins and support hold
`stats:view`. The page is read-only: today's figures are counted on each visit, the days before
once a day (see app.features.admin.dashboard).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template
from markupsafe import Markup

from app.auth import DB
from app.core.db import utcnow
from app.core.ui import page
from app.features.admin.charts import Chart, bar_chart, long_day
from app.features.admin.dashboard import Dashboard, dashboard
from app.features.admin.service import Actor, Admin
from app.features.admin.web import console, other_methods, provide_actor, provide_admin

PATH = "/admin"


def charts(figures: Dashboard) -> list[tuple[Chart, Markup]]:
    """The page's charts, in the order shown, each with its SVG."""
    days = figures.days
    made = [
        Chart("chart-sign-ins", "Sign-ins", days, figures.sign_ins, "Sessions opened a day, by how people signed in."),
        Chart(
            "chart-signed-in-users",
            "Signed-in users",
            days,
            [figures.signed_in_users],
            "Distinct users who signed in that day, by any method.",
        ),
        Chart("chart-sign-ups", "Sign-ups", days, [figures.sign_ups], "Accounts created a day."),
        Chart(
            "chart-failed-sign-ins",
            "Failed sign-ins",
            days,
            [figures.failed_sign_ins],
            "Wrong passwords for existing accounts, and sign-ins refused to banned users.",
        ),
        Chart("chart-bans", "Bans", days, [figures.bans], "Users banned a day."),
    ]
    return [(chart, bar_chart(chart)) for chart in made]


@get(PATH, **console("stats:view"))
async def dashboard_page(
    request: Request[Any, Any, Any], db: DB, admin: NamedDependency[Admin], actor: NamedDependency[Actor]
) -> Template:
    """Sign-ups, sign-ins by method, signed-in users, failed sign-ins and bans per day over 30 days."""
    figures = await dashboard(db, admin.kit.store, utcnow(), request.app.state.ui.labels)
    return page(
        request,
        "admin/dashboard.html",
        figures=figures,
        charts=charts(figures),
        since=long_day(figures.days[0]),
        can_list_users=actor.can("user:list"),
    )


DASHBOARD = Router(
    "/",
    route_handlers=[*other_methods([dashboard_page]), dashboard_page],
    dependencies={
        "admin": Provide(provide_admin, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
    },
    include_in_schema=False,
)
