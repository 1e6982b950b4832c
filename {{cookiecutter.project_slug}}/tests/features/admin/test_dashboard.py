"""The dashboard at /admin: per-UTC-day counts from the audit log, totals, and charts whose numbers are also a table.

Its clock is named (`NOW`, a day in 2024): the events of a test are written on known days around
it, and the sign-ups the test's own users made today (by the wall clock) fall after its window.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from app.core.audit import AuditLog
from app.features.admin import dashboard_views
from app.features.admin.dashboard import MAX_METHODS, OTHER, dashboard
from tests.features.admin.conftest import People

NOW = datetime(2024, 3, 15, 13, 30, tzinfo=UTC)
FIRST_DAY, TODAY = date(2024, 2, 15), date(2024, 3, 15)
LABELS = {"oauth": "Social"}
Entry = tuple[str, datetime, dict[str, Any], uuid.UUID | None]


def march(day: int) -> date:
    return date(2024, 3, day)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=UTC)


async def write(app: Litestar, *entries: Entry) -> None:
    """Audit rows as the app records them, at the given times."""
    async with app.state.db.sessions() as db:
        for event, when, data, actor in entries:
            db.add(AuditLog(event=event, created_at=when, data=data, actor_id=actor, target_type="user"))
        await db.commit()


async def figures_at(app: Litestar, now: datetime = NOW, labels: dict[str, str] = LABELS) -> Any:
    async with app.state.db.sessions() as db:
        return await dashboard(db, app.state.auth.store, now, labels)


def by_day(values: tuple[int, ...], first: date = FIRST_DAY) -> dict[date, int]:
    """The days with a count (every other day of the window must be 0)."""
    assert len(values) == 30
    return {first + timedelta(days=n): value for n, value in enumerate(values) if value}


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The dashboard page's clock at NOW."""
    monkeypatch.setattr(dashboard_views, "utcnow", lambda: NOW)
    return NOW


async def test_each_utc_day_counts_its_own_events_and_quiet_days_are_zero(app: Litestar) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    await write(
        app,
        ("user.created", at(FIRST_DAY, 0), {"method": "password"}, alice),  # the window's first instant
        ("user.created", at(FIRST_DAY - timedelta(days=1), 23, 59, 59, 999999), {}, None),  # just before it
        ("user.created", at(TODAY, 23, 59, 59), {"method": "password"}, bob),  # today, after NOW
        ("user.created", at(TODAY + timedelta(days=1), 0), {}, None),  # tomorrow: after the window
        ("session.created", at(march(10), 0, 0), {"method": "password"}, alice),
        ("session.created", at(march(10), 9), {"method": "password"}, alice),
        ("session.created", at(march(10), 23, 59), {"method": "passkey"}, alice),
        ("session.created", at(march(10), 10), {"method": "password"}, bob),
        ("session.created", at(march(1)), {"method": "oauth:github"}, bob),
        ("session.sign_in_failed", at(march(12), 1), {"reason": "password"}, None),
        ("session.sign_in_failed", at(march(12), 22), {"reason": "banned"}, None),
        ("user.banned", at(march(14)), {}, alice),
        ("session.revoked", at(march(10)), {}, alice),  # not a figure of the dashboard
    )
    figures = await figures_at(app)
    assert figures.days[0] == FIRST_DAY and figures.days[-1] == TODAY and len(figures.days) == 30
    assert by_day(figures.sign_ups.values) == {FIRST_DAY: 1, TODAY: 1}
    assert [(s.label, by_day(s.values)) for s in figures.sign_ins] == [
        ("Password", {march(10): 3}),  # the busiest method first, then by key
        ("Social (github)", {march(1): 1}),
        ("Passkey", {march(10): 1}),
    ]
    assert by_day(figures.signed_in_users.values) == {march(1): 1, march(10): 2}  # alice once, however often
    assert by_day(figures.failed_sign_ins.values) == {march(12): 2}
    assert by_day(figures.bans.values) == {march(14): 1}


async def test_rare_sign_in_methods_share_one_series(app: Litestar) -> None:
    methods = ["password", "passkey", "magic-link", "oauth:github", "oauth:google", "email-otp"]
    entries: list[Entry] = [
        ("session.created", at(TODAY, 1, n), {"method": method}, uuid.uuid4())
        for rank, method in enumerate(methods)
        for n in range(len(methods) - rank)  # password 6 times ... email-otp once
    ]
    await write(app, *entries)
    sign_ins = (await figures_at(app)).sign_ins
    assert len(sign_ins) == MAX_METHODS
    assert [(s.label, s.total) for s in sign_ins] == [
        ("Password", 6),
        ("Passkey", 5),
        ("Magic link", 4),
        ("Social (github)", 3),
        (OTHER, 3),  # google's 2 and email-otp's 1
    ]


async def test_finished_days_are_counted_once_a_day_and_today_on_every_view(app: Litestar) -> None:
    yesterday = TODAY - timedelta(days=1)
    await write(app, ("user.created", at(yesterday), {}, None))
    assert by_day((await figures_at(app)).sign_ups.values) == {yesterday: 1}
    late: Entry = ("user.created", at(yesterday, 15), {}, None)  # a finished day's row, written later (a restore)
    await write(app, ("user.created", at(TODAY, 13), {}, None), late)
    assert by_day((await figures_at(app)).sign_ups.values) == {yesterday: 1, TODAY: 1}  # yesterday is kept
    tomorrow = await figures_at(app, NOW + timedelta(days=1))  # another window: counted afresh
    assert by_day(tomorrow.sign_ups.values, FIRST_DAY + timedelta(days=1)) == {yesterday: 2, TODAY: 1}


async def test_just_after_midnight_the_day_that_ended_is_not_kept_yet(app: Litestar) -> None:
    yesterday = TODAY - timedelta(days=1)
    early = at(TODAY, 0, 2)
    assert by_day((await figures_at(app, early)).sign_ups.values) == {}
    await write(app, ("user.created", at(yesterday, 23, 59, 59), {}, None))  # committed a moment after midnight
    assert by_day((await figures_at(app, early + timedelta(minutes=1))).sign_ups.values) == {yesterday: 1}


async def test_a_quiet_month_is_all_zeros(app: Litestar) -> None:
    figures = await figures_at(app)
    assert figures.sign_ups.values == (0,) * 30 and figures.bans.values == (0,) * 30
    assert [s.values for s in figures.sign_ins] == [(0,) * 30]  # one empty series, so the chart is drawn
    assert figures.totals.users == 0 and figures.totals.live_sessions == 0 and figures.totals.banned == 0


SVG = re.compile(r'<svg class="chart"[^>]*aria-labelledby="([\w-]+)-title"[^>]*>(.*?)</svg>', re.S)
CARD = re.compile(r'<section class="card admin-chart[^"]*" id="([\w-]+)-card".*?</section>', re.S)
ROW = re.compile(r'<tr><th scope="row">([^<]+)</th>((?:<td>[\d,]+</td>)+)</tr>')


def chart_tables(html: str) -> dict[str, list[tuple[str, list[int]]]]:
    """Each chart's numbers table: per day, one count per series."""
    return {
        match.group(1): [
            (day, [int(v.replace(",", "")) for v in re.findall(r"<td>([\d,]+)</td>", cells)])
            for day, cells in ROW.findall(match.group(0))
        ]
        for match in CARD.finditer(html)
    }


async def test_the_page_draws_each_chart_and_gives_its_numbers(app: Litestar, people: People, frozen: datetime) -> None:
    admin = await people("admin")
    await write(
        app,
        ("user.created", at(date(2024, 3, 2)), {}, None),
        ("user.created", at(date(2024, 3, 2), 18), {}, None),
        ("session.created", at(date(2024, 3, 3)), {"method": "password"}, uuid.UUID(admin.id)),
        ("session.created", at(date(2024, 3, 3)), {"method": "passkey"}, uuid.UUID(admin.id)),
        ("user.banned", at(TODAY, 8), {}, None),
    )
    page = await admin.client.get("/admin")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    svgs = dict(SVG.findall(page.text))
    charts = {"chart-sign-ins", "chart-signed-in-users", "chart-sign-ups", "chart-failed-sign-ins", "chart-bans"}
    assert set(svgs) == charts
    assert svgs["chart-sign-ups"].count('<rect class="chart__bar') == 30  # a bar a day, zeros included
    assert svgs["chart-sign-ins"].count('<rect class="chart__bar') == 30 * 2  # stacked: password, passkey
    assert "<title>2 Mar, Sign-ups: 2</title>" in svgs["chart-sign-ups"]
    assert "From 15 Feb 2024 to 15 Mar 2024: 2 in all; the busiest day, 2 Mar 2024, had 2." in svgs["chart-sign-ups"]
    assert "style=" not in page.text  # the CSP has no 'unsafe-inline' for styles
    tables = chart_tables(page.text)
    assert len(tables["chart-sign-ups"]) == 30 and tables["chart-sign-ups"][0] == ("15 Feb 2024", [0])
    assert tables["chart-sign-ups"][16] == ("2 Mar 2024", [2])
    assert tables["chart-sign-ins"][17] == ("3 Mar 2024", [1, 1])
    assert tables["chart-signed-in-users"][17] == ("3 Mar 2024", [1])
    assert tables["chart-bans"][-1] == ("15 Mar 2024", [1])
    assert sum(values[0] for _, values in tables["chart-failed-sign-ins"]) == 0
    totals = dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>(?:<a [^>]+>)?([\d,]+)", page.text))
    assert totals == {"Users": "1", "Live sessions": "1", "Banned now": "0", "Sign-ups, 30 days": "2"}


async def test_labels_from_the_log_are_escaped(app: Litestar, people: People, frozen: datetime) -> None:
    admin = await people("admin")
    await write(app, ("session.created", at(TODAY, 9), {"method": "<script>alert(1)</script>"}, None))
    page = (await admin.client.get("/admin")).text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_support_sees_the_dashboard_and_users_do_not(app: Litestar, people: People, frozen: datetime) -> None:
    support = await people("support")
    plain = await people()
    assert (await support.client.get("/admin")).status_code == 200
    hidden = await plain.client.get("/admin")
    assert hidden.status_code == 404 and hidden.text == (await plain.client.get("/no-such-page")).text


async def test_the_console_nav_marks_the_page_it_is_on(people: People, frozen: datetime) -> None:
    admin = await people("admin")
    home = (await admin.client.get("/admin")).text
    users = (await admin.client.get("/admin/users")).text
    assert '<a class="topnav__link" href="/admin" aria-current="page">Dashboard</a>' in home
    assert '<a class="topnav__link" href="/admin/users">Users</a>' in home
    assert '<a class="topnav__link" href="/admin">Dashboard</a>' in users
    assert '<a class="topnav__link" href="/admin/users" aria-current="page">Users</a>' in users
