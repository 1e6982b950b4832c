"""The users list's "Last sign-in" and "2FA" columns: right for each user, read for the whole page at once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from sqlalchemy import ColumnElement, delete, event, false, or_
from sqlmodel import col

from app.core.audit import AuditLog
from tests.features.admin.conftest import People
from tests.features.admin.helpers import Person

CELLS = re.compile(
    r'href="/admin/users/([0-9a-f-]{36})">.*?data-label="Last sign-in">(.*?)</td>.*?data-label="2FA">(.*?)</td>', re.S
)


class EnrolledFor:
    """A second factor that the given users have (what a TOTP or passkey feature reports), defined
    here so that the test holds whichever of those features a project has."""

    name = "test_factor"
    label = "Test key"
    template = "components/second_factor.html"

    def __init__(self, *user_ids: str) -> None:
        self.user_ids = [uuid.UUID(user_id) for user_id in user_ids]

    def offered(self, settings: object) -> bool:
        return True

    def enrolled_when(self, user_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
        return or_(false(), *(user_id == enrolled for enrolled in self.user_ids))


def columns(html: str) -> dict[str, tuple[str, str]]:
    """Per user id on the page: its Last sign-in and 2FA cells."""
    return {user_id: (last.strip(), factors.strip()) for user_id, last, factors in CELLS.findall(html)}


@contextmanager
def statements(app: Litestar) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def forget_sign_ins(app: Litestar, person: Person) -> None:
    async with app.state.db.sessions() as db:
        await db.exec(delete(AuditLog).where(col(AuditLog.actor_id) == uuid.UUID(person.id)))
        await db.commit()


async def sign_in_at(app: Litestar, person: Person, when: datetime) -> None:
    async with app.state.db.sessions() as db:
        db.add(AuditLog(event="session.created", created_at=when, actor_id=uuid.UUID(person.id), target_type="session"))
        await db.commit()


async def test_last_sign_in_and_second_factors_are_each_users_own(app: Litestar, people: People) -> None:
    admin = await people("admin")
    recent, enrolled, unseen = await people(), await people(), await people()
    await forget_sign_ins(app, recent)  # their sign-in today, replaced by two on known days:
    await sign_in_at(app, recent, datetime(2021, 5, 4, 10, 0, tzinfo=UTC))
    await sign_in_at(app, recent, datetime(2020, 1, 1, tzinfo=UTC))  # older: not the last one
    await forget_sign_ins(app, unseen)  # e.g. signed in before the log was pruned
    app.state.auth.gate.factors.append(EnrolledFor(enrolled.id))
    page = await admin.client.get("/admin/users")
    assert page.status_code == 200
    cells = columns(page.text)
    assert cells[recent.id] == ('<time datetime="2021-05-04T10:00:00Z" data-local>4 May 2021, 10:00 UTC</time>', "No")
    assert cells[enrolled.id][1] == "Test key" and cells[enrolled.id][0].startswith("<time ")
    assert cells[unseen.id] == ('<span class="muted">Not on record</span>', "No")
    assert cells[admin.id][1] == "No"


async def test_the_columns_cost_the_same_queries_for_any_number_of_users(app: Litestar, people: People) -> None:
    admin = await people("admin")
    with statements(app) as few:
        assert len(columns((await admin.client.get("/admin/users")).text)) == 1
    for _ in range(6):
        await people()
    with statements(app) as many:
        assert len(columns((await admin.client.get("/admin/users")).text)) == 7
    assert len(many) == len(few)
