"""Does the admin console stay fast at 100,000 users? Its users list and its dashboard, timed.

A scratch database of its own gets `--admin-users` users (signed up over a year), an audit log
shaped like a busy site's (a sign-up per user; sign-ins, failed sign-ins and sign-outs over the
last 90 days by a mix of methods; a few bans) and one admin, whose session every request
carries. Each page is timed in-process; then the console's indexes (app.features.admin.models)
are dropped and the same pages timed again, so the table shows what each index is worth.
"""

from __future__ import annotations

import importlib
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Litestar
from sqlalchemy import insert, select, text, update

from app.auth.models import User
from app.core.audit import AuditLog
from app.core.db import utcnow
from bench import apps
from bench.asgi import CLIENTS, Headers, Lifespan, Probe, call, check, measure
from bench.data import Dataset, scratch_database, token_for
from bench.report import status, table

# Events per user over the last 90 days; sign-outs are there as events the dashboard does not count.
PER_USER = {"session.created": 3, "session.sign_in_failed": 0.3, "session.revoked": 1, "user.banned": 0.003}
ACTED_BY_THE_USER = ("session.created", "session.revoked")
METHODS = {"password": 60, "passkey": 20, "magic-link": 10, "oauth:github": 6, "oauth:google": 4}
DEEP = 0.9  # the deep pages start this far into the list
BATCH = 10_000
INDEXES = ("ix_user_created_at_id", "ix_user_name_id", "ix_audit_log_actor_event")  # app.features.admin.models
U = User.__table__.c  # type: ignore[attr-defined]


def _audit_rows(signed_up: list[Any], rng: random.Random) -> Iterator[dict[str, Any]]:
    """The audit log of the users, oldest first as a real log is written (so a day's rows are
    neighbours on disk): their sign-ups (`signed_up`: (id, created_at) rows), and their activity
    over the last 90 days."""
    now = utcnow()
    user_ids = [user_id for user_id, _ in signed_up]
    methods, weights = list(METHODS), list(METHODS.values())
    events: list[tuple[Any, str, uuid.UUID, str | None]] = [
        (when, "user.created", user_id, "password") for user_id, when in signed_up
    ]
    for event, per_user in PER_USER.items():
        for _ in range(int(len(user_ids) * per_user)):
            method = rng.choices(methods, weights)[0] if event == "session.created" else None
            events.append((now - timedelta(seconds=rng.uniform(0, 90 * 86400)), event, rng.choice(user_ids), method))
    events.sort(key=lambda planned: planned[0])
    for when, event, user_id, method in events:
        actor = user_id if event in ACTED_BY_THE_USER else None
        yield _row(event, when, actor, user_id, {"method": method} if method else {})


def _row(event: str, when: Any, actor: uuid.UUID | None, user_id: uuid.UUID, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "created_at": when,
        "event": event,
        "actor_id": actor,
        "target_type": "user",
        "target_id": str(user_id),
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
        "data": data,
    }


async def fill(data: Dataset, users: int) -> int:
    """`users` users, a session each and their audit log; the first user is an admin, with session
    `token_for(0)`. The number of audit rows written."""
    await data.add_users(users, created_over=timedelta(days=365))
    await data.grow_sessions(users)  # a session a user; session 0 is the first user's
    rng = random.Random(19)  # noqa: S311 - sample data, not secrets
    rows = 0
    async with data.engine.begin() as conn:
        await conn.execute(update(User).where(U.id == data.user_ids[0]).values(role="admin"))
        signed_up = list((await conn.execute(select(U.id, U.created_at))).all())
        batch: list[dict[str, Any]] = []
        for row in _audit_rows(signed_up, rng):
            batch.append(row)
            if len(batch) == BATCH:
                await conn.execute(insert(AuditLog.__table__), batch)  # type: ignore[attr-defined]
                rows, batch = rows + len(batch), []
        if batch:
            await conn.execute(insert(AuditLog.__table__), batch)  # type: ignore[attr-defined]
            rows += len(batch)
    await analyze(data)
    return rows


async def analyze(data: Dataset) -> None:
    async with data.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


async def _cursor(data: Dataset, column: str, descending: bool) -> str:
    """The keyset cursor of the row DEEP into the list sorted by `column`."""
    listing = importlib.import_module("app.features.admin.listing")  # absent without the console
    order = [U[column].desc(), U.id.desc()] if descending else [U[column].asc(), U.id.asc()]
    query = select(U[column], U.id).order_by(*order).offset(int(data.users * DEEP)).limit(1)
    async with data.engine.connect() as conn:
        value, user_id = (await conn.execute(query)).one()
    return str(listing.encode_cursor(value, user_id))


@dataclass(frozen=True)
class Page:
    """A console page to time, and a fragment its answer must hold."""

    name: str
    path: str
    expect: bytes
    first_of_the_day: bool = False  # the shared store emptied before each request: 30 days counted


async def pages(data: Dataset) -> list[Page]:
    """The pages timed."""
    deep = f"{DEEP:.0%} in"
    offset = int(data.users * DEEP)
    newest, by_name = await _cursor(data, "created_at", True), await _cursor(data, "name", False)
    return [
        Page("users list, first page", "/admin/users", b"admin-table"),
        Page(f"users list, keyset page {deep} (newest first)", f"/admin/users?after={newest}", b"admin-table"),
        Page(f"users list, keyset page {deep} (by name)", f"/admin/users?sort=name&after={by_name}", b"admin-table"),
        Page("users list, search (contains: a scan)", f"/admin/users?q=user-{data.users // 2:05d}", b"admin-table"),
        Page(f"API list-users, offset {offset:,}", f"/api/auth/admin/list-users?limit=50&offset={offset}", b'"users"'),
        Page("dashboard (the days before today kept)", "/admin", b"chart__bar"),
        Page("dashboard, first view of the day", "/admin", b"chart__bar", first_of_the_day=True),
    ]


async def time_page(app: Litestar, headers: Headers, page: Page, seconds: float) -> float:
    """Milliseconds per request of the page over about `seconds`."""
    probe = Probe(app, page.path, [headers], expect_body=page.expect)
    if not page.first_of_the_day:
        return (await measure(probe, seconds, warmup=3)).mean_us / 1000
    await check(probe)
    spent: list[float] = []
    while sum(spent) < seconds or len(spent) < 3:
        await app.state.auth.store.delete_all()  # what the day's first view finds (rate limits go too)
        before = time.perf_counter()
        await call(probe, headers, CLIENTS[len(spent) % len(CLIENTS)])
        spent.append(time.perf_counter() - before)
    return 1000 * sum(spent) / len(spent)


async def time_pages(app: Litestar, todo: list[Page], seconds: float, rounds: int) -> list[float]:
    """Each page's median time per request over `rounds`, in milliseconds."""
    headers = [(b"cookie", f"{app.state.auth.sessions.cookie_name}={token_for(0)}".encode())]
    medians = []
    for page in todo:
        status(f"admin: {page.name}")
        timings = sorted([await time_page(app, headers, page, seconds) for _ in range(rounds)])
        medians.append(timings[len(timings) // 2])
    return medians


async def run_admin(kind: str, postgres_url: str | None, users: int, seconds: float, rounds: int) -> None:
    """Fill a scratch database, time the console's pages with and without its indexes, print the table."""
    async with scratch_database(kind, postgres_url) as url:
        data = Dataset(url)
        app = apps.build(url, cookie_cache=False)
        try:
            if "admin" not in app.state.features:
                status("admin: the admin console is not enabled (use_admin): nothing to measure")
                return
            status(f"admin: {users:,} users and their audit log")
            rows = await fill(data, users)
            todo = await pages(data)
            async with Lifespan(app):
                indexed = await time_pages(app, todo, seconds, rounds)
                async with data.engine.begin() as conn:
                    for index in INDEXES:
                        await conn.execute(text(f"DROP INDEX {index}"))
                await analyze(data)
                bare = await time_pages(app, todo, seconds, rounds)
        finally:
            await data.close()
    table(
        f"Admin console at {users:,} users ({kind}, {rows:,} audit rows; ms per request, in-process)",
        ["page", "ms", "without the console's indexes", "x"],
        [
            [page.name, f"{fast:,.1f}", f"{slow:,.1f}", f"{slow / fast:,.1f}"]
            for page, fast, slow in zip(todo, indexed, bare, strict=True)
        ],
        [f"Indexes dropped for the last column: {', '.join(INDEXES)}."],
    )
