"""The audit log: one row per event (actor, target, IP, user agent, UTC time), filtered and read back.

Rows are read by keyset, (created_at, id), a batch at a time, each batch its own short query in
a session of its own: reading millions of rows never holds them all, nor a connection (on
SQLite: the one writer's turn) for longer than a batch takes, and needs no server-side cursor,
which neither aiosqlite nor asyncpg outside a transaction offers. The exports write those
batches as CSV or JSONL (app.core.audit_export); `prune` applies the retention.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Index, and_, delete, func, or_
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import UTCDateTime, utcnow
from app.core.events import Event

BATCH_SIZE = 500  # rows a query when reading the log through

Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Position = tuple[datetime, uuid.UUID]  # a row's place in the log: its (created_at, id)


class AuditLog(SQLModel, table=True):
    """An append-only record of something that changed."""

    __tablename__ = "audit_log"
    # "Everything that happened to this user": the target, newest first, without a scan.
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    event: str = Field(max_length=60, index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    target_type: str = Field(max_length=40)
    target_id: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=512)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    @property
    def position(self) -> Position:
        """Where the row is in the log, for reading on after it."""
        return self.created_at, self.id


async def record(db: AsyncSession, event: Event) -> None:
    """Event listener: add the audit row to the emitting transaction."""
    db.add(
        AuditLog(
            event=event.name,
            actor_id=event.actor_id,
            target_type=event.target_type,
            target_id=event.target_id,
            ip=event.meta.ip,
            user_agent=(event.meta.user_agent or "")[:512] or None,
            data=event.data,
        )
    )


@dataclass(frozen=True)
class Party:
    """Someone who acted or was acted on: rows whose actor is `id`, or whose target is (`target_type`, `id`)."""

    id: uuid.UUID
    target_type: str


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to read: every field set narrows them (`since` inclusive, `until` exclusive)."""

    event: str | None = None
    actor_id: uuid.UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    ip: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    party: Party | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of the filter."""
        found: list[ColumnElement[bool]] = []
        for column, value in (
            (col(AuditLog.event), self.event),
            (col(AuditLog.actor_id), self.actor_id),
            (col(AuditLog.target_type), self.target_type),
            (col(AuditLog.target_id), self.target_id),
            (col(AuditLog.ip), self.ip),
        ):
            if value is not None:
                found.append(column == value)
        if self.since is not None:
            found.append(col(AuditLog.created_at) >= self.since)
        if self.until is not None:
            found.append(col(AuditLog.created_at) < self.until)
        if self.party is not None:
            acted_on = and_(
                col(AuditLog.target_type) == self.party.target_type, col(AuditLog.target_id) == str(self.party.id)
            )
            found.append(or_(col(AuditLog.actor_id) == self.party.id, acted_on))
        return found

    def describe(self) -> dict[str, str]:
        """The fields that are set, as text (what an export records about itself)."""
        values = {
            "event": self.event,
            "actor_id": self.actor_id,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "ip": self.ip,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "party": self.party.id if self.party else None,
        }
        return {name: str(value) for name, value in values.items() if value is not None}


def ip_address(value: str) -> str:
    """An IP address as the log stores it ("2001:DB8::1" -> "2001:db8::1"); ValueError for anything else."""
    return str(ipaddress.ip_address(value.strip()))


def time_bound(value: str, *, end: bool = False) -> datetime:
    """A date or an ISO 8601 time as an aware datetime (UTC unless it says otherwise), for a range.

    A date alone is the start of that day, or with `end` the start of the next: a range "to
    2026-01-31" includes that day. ValueError for anything else.
    """
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        moment = datetime.fromisoformat(value.strip())
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)


async def read_batch(
    db: AsyncSession, where: AuditFilter, *, after: Position | None = None, limit: int, newest_first: bool
) -> list[AuditLog]:
    """Up to `limit` rows of the filter after the row at `after`, newest or oldest first."""
    created, key = col(AuditLog.created_at), col(AuditLog.id)
    query = select(AuditLog).where(*where.conditions())
    if after is not None:
        at, after_id = after
        if newest_first:
            query = query.where(or_(created < at, and_(created == at, key < after_id)))
        else:
            query = query.where(or_(created > at, and_(created == at, key > after_id)))
    order = (created.desc(), key.desc()) if newest_first else (created.asc(), key.asc())
    return list((await db.exec(query.order_by(*order).limit(limit))).all())


async def batches(
    sessions: Sessions, where: AuditFilter, *, newest_first: bool = False, size: int = BATCH_SIZE
) -> AsyncIterator[list[AuditLog]]:
    """Every row of the filter, `size` at a time, each batch read in a session of its own."""
    after: Position | None = None
    while True:
        async with sessions() as db:
            batch = await read_batch(db, where, after=after, limit=size, newest_first=newest_first)
        if batch:
            yield batch
        if len(batch) < size:
            return
        after = batch[-1].position


async def recent(db: AsyncSession, party: Party, limit: int = 10) -> list[AuditLog]:
    """The last `limit` rows about `party`, as actor or as target, newest first.

    Two indexed reads (by actor, by target) merged, rather than one OR that a database may
    answer by scanning the log."""
    order = (col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
    by_actor = select(AuditLog).where(col(AuditLog.actor_id) == party.id)
    about = select(AuditLog).where(
        col(AuditLog.target_type) == party.target_type, col(AuditLog.target_id) == str(party.id)
    )
    rows: dict[uuid.UUID, AuditLog] = {}
    for query in (by_actor, about):
        rows.update((row.id, row) for row in await db.exec(query.order_by(*order).limit(limit)))
    return sorted(rows.values(), key=lambda row: row.position, reverse=True)[:limit]


async def event_names(db: AsyncSession, limit: int = 200) -> list[str]:
    """The event names the log holds, in order (the first `limit`).

    Each step of the recursive query finds the next name by the event index (a "loose index
    scan"): as many index lookups as there are names, however long the log, where DISTINCT
    would read every row's name."""
    event = col(AuditLog.event)
    names = select(func.min(event).label("event")).cte("names", recursive=True)
    following = select(func.min(event)).where(event > names.c.event).scalar_subquery()
    names = names.union_all(select(following).where(names.c.event.is_not(None)))
    query = select(names.c.event).where(names.c.event.is_not(None)).limit(limit)
    return [str(name) for name in (await db.exec(query)).all()]


async def prune(sessions: Sessions, before: datetime, size: int = 1000) -> int:
    """Delete the rows older than `before`, `size` at a time, each batch its own transaction (no
    long lock on the log); the number deleted."""
    deleted = 0
    while True:
        async with sessions() as db:
            oldest = select(AuditLog.id).where(col(AuditLog.created_at) < before).limit(size)
            ids = list((await db.exec(oldest)).all())
            if ids:
                await db.exec(delete(AuditLog).where(col(AuditLog.id).in_(ids)))
                await db.commit()
        deleted += len(ids)
        if len(ids) < size:
            return deleted
