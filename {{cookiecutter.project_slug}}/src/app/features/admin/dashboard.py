"""The dashboard's figures: what happened on each UTC day of the last 30, and where things stand now.

The days come from the audit log (`user.created`, `session.created`, `session.sign_in_failed`,
`user.banned`), counted by the database: a GROUP BY on the UTC day of each row, over the rows of
the days asked for only (the `created_at` index bounds the read), so the answer is a few hundred
small rows however long the log is. Days without an event are zeros, not missing.

A day that is over does not change (the log is append-only and written at the time of the event),
so the 29 days before today are counted once a day and kept in the shared store until today
ends; each view counts only today's rows. On a busy site that is the difference between reading
a month of the log and reading a day of it on every view (`make bench BENCH_ARGS="--only admin"`).
"Now" is the caller's (`app.core.db.utcnow()`), so a test can name it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from litestar.stores.base import Store
from sqlalchemy import ColumnElement, String, and_, case, distinct, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import Session, User, method_label
from app.core.audit import AuditLog
from app.core.events import EventName

DAYS = 30
MAX_METHODS = 5  # sign-in series shown; with more methods, the rarest share one "Other" series
OTHER = "Other"
SIGNED_IN = "signed_in"  # the figure of distinct users who signed in, beside the events' own
SIGN_IN = EventName.SESSION_CREATED + ":"  # figures "session.created:<method>"
# Rows of a day may still be committing just after it ends: the finished days are kept only from then on.
SETTLED = timedelta(minutes=5)
STORE_KEY = "admin:dashboard:{first}:{today}"
A = AuditLog.__table__.c  # type: ignore[attr-defined]
S = Session.__table__.c  # type: ignore[attr-defined]
U = User.__table__.c  # type: ignore[attr-defined]
COUNTED = (EventName.USER_CREATED, EventName.SESSION_CREATED, EventName.SIGN_IN_FAILED, EventName.USER_BANNED)

Counts = dict[str, dict[str, int]]  # figure -> ISO day -> count


class utc_day(FunctionElement[str]):  # noqa: N801 - a SQL function, named as SQL functions are
    """The UTC calendar day of a stored timestamp, as 'YYYY-MM-DD' text, on SQLite and PostgreSQL."""

    type = String()
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps timestamps as UTC text (app.core.db.UTCDateTime): the day is its date part.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # `date(timestamptz)` would take the connection's TimeZone setting: name UTC instead.
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@dataclass(frozen=True)
class Series:
    """One line of figures: a label and a count per day, oldest day first."""

    label: str
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class Totals:
    """Where things stand now: users, sessions that are still valid, users under a ban."""

    users: int
    live_sessions: int
    banned: int


@dataclass(frozen=True)
class Dashboard:
    """The figures of the dashboard, per day over `days` (oldest first, today last) and now."""

    days: tuple[date, ...]
    sign_ups: Series
    sign_ins: tuple[Series, ...]  # by sign-in method, the busiest first
    signed_in_users: Series  # distinct users who signed in that day
    failed_sign_ins: Series
    bans: Series
    totals: Totals


def window(now: datetime, days: int = DAYS) -> tuple[tuple[date, ...], datetime, datetime]:
    """The last `days` UTC days up to today's, and the instants where they start and end."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, UTC)
    return tuple(first + timedelta(days=n) for n in range(days)), start, start + timedelta(days=days)


async def count_days(db: AsyncSession, start: datetime, end: datetime) -> Counts:
    """The figures of the days from `start` to `end` (UTC midnights), by figure and day: two grouped reads."""
    in_range = and_(A.created_at >= start, A.created_at < end)
    day = utc_day(A.created_at).label("day")
    method = case((A.event == EventName.SESSION_CREATED, A.data["method"].as_string()), else_=None).label("method")
    counts: Counts = defaultdict(dict)
    events = await db.exec(
        select(day, A.event, method, func.count()).where(in_range, A.event.in_(COUNTED)).group_by(day, A.event, method)
    )
    for row_day, event, row_method, count in events.all():
        figure = SIGN_IN + (row_method or "unknown") if event == EventName.SESSION_CREATED else event
        counts[figure][row_day] = count
    signed_in = await db.exec(
        select(day, func.count(distinct(A.actor_id)))
        .where(in_range, A.event == EventName.SESSION_CREATED)
        .group_by(day)
    )
    counts[SIGNED_IN] = dict(signed_in.all())
    return counts


async def finished_days(db: AsyncSession, store: Store, start: datetime, today: datetime, now: datetime) -> Counts:
    """The figures of the days from `start` to `today` (excluded): from the store, else counted and kept."""
    key = STORE_KEY.format(first=start.date().isoformat(), today=today.date().isoformat())
    kept = await store.get(key)
    if kept is not None:
        counts: Counts = json.loads(kept)
        return counts
    counts = await count_days(db, start, today)
    if now - today >= SETTLED:
        until_tomorrow = today + timedelta(days=1) - now
        await store.set(key, json.dumps(counts), expires_in=max(1, int(until_tomorrow.total_seconds())))
    return counts


async def dashboard(db: AsyncSession, store: Store, now: datetime, labels: Mapping[str, str]) -> Dashboard:
    """The dashboard at `now`; `labels` names the sign-in methods (a method's key -> words, the UI labels)."""
    days, start, end = window(now)
    today = end - timedelta(days=1)
    counts: Counts = defaultdict(dict)
    for part in (await finished_days(db, store, start, today, now), await count_days(db, today, end)):
        for figure, by_day in part.items():
            counts[figure].update(by_day)
    keys = [d.isoformat() for d in days]

    def series(label: str, by_day: Mapping[str, int]) -> Series:
        return Series(label, tuple(by_day.get(key, 0) for key in keys))

    methods = {figure.removeprefix(SIGN_IN): by_day for figure, by_day in counts.items() if figure.startswith(SIGN_IN)}
    return Dashboard(
        days=days,
        sign_ups=series("Sign-ups", counts[EventName.USER_CREATED]),
        sign_ins=tuple(series(label, by_day) for label, by_day in _busiest(methods, labels)),
        signed_in_users=series("Signed-in users", counts[SIGNED_IN]),
        failed_sign_ins=series("Failed sign-ins", counts[EventName.SIGN_IN_FAILED]),
        bans=series("Bans", counts[EventName.USER_BANNED]),
        totals=await totals(db, now),
    )


def _busiest(methods: Mapping[str, Mapping[str, int]], labels: Mapping[str, str]) -> Iterable[tuple[str, Counter[str]]]:
    """The sign-in methods, busiest first; past MAX_METHODS the rarest are summed as "Other".

    Always at least one series, so that a quiet month still draws an (empty) chart.
    """
    ranked = sorted(((key, Counter(by_day)) for key, by_day in methods.items()), key=lambda m: (-m[1].total(), m[0]))
    if not ranked:
        return [(method_label("password", labels), Counter())]
    if len(ranked) <= MAX_METHODS:
        return [(method_label(key, labels), by_day) for key, by_day in ranked]
    kept, rest = ranked[: MAX_METHODS - 1], ranked[MAX_METHODS - 1 :]
    other: Counter[str] = Counter()
    for _, by_day in rest:
        other.update(by_day)
    return [*((method_label(key, labels), by_day) for key, by_day in kept), (OTHER, other)]


async def totals(db: AsyncSession, now: datetime) -> Totals:
    """Users, live sessions and users banned at `now`, in one round trip."""
    banned: ColumnElement[bool] = and_(U.banned.is_(true()), or_(U.ban_expires.is_(None), U.ban_expires > now))
    live = and_(S.expires_at > now, S.absolute_expires_at > now)
    users, sessions, bans = (
        await db.exec(
            select(
                select(func.count()).select_from(User.__table__).scalar_subquery(),  # type: ignore[attr-defined]
                select(func.count()).select_from(Session.__table__).where(live).scalar_subquery(),  # type: ignore[attr-defined]
                select(func.count()).select_from(User.__table__).where(banned).scalar_subquery(),  # type: ignore[attr-defined]
            )
        )
    ).one()
    return Totals(int(users), int(sessions), int(bans))
