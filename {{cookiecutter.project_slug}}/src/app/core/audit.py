"""The audit log: one row per event (actor, target, IP, user agent, UTC time), and its export."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import UTCDateTime, utcnow
from app.core.events import Event

EXPORT_FIELDS = ("id", "created_at", "event", "actor_id", "target_type", "target_id", "ip", "user_agent", "data")


class AuditLog(SQLModel, table=True):
    """An append-only record of something that changed."""

    __tablename__ = "audit_log"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    event: str = Field(max_length=60, index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    target_type: str = Field(max_length=40)
    target_id: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=512)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


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


def _row(entry: AuditLog) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "created_at": entry.created_at.isoformat(),
        "event": entry.event,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "data": entry.data,
    }


async def iter_entries(db: AsyncSession, since: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
    """Audit rows oldest first, as plain dicts."""
    query = select(AuditLog).order_by(AuditLog.created_at)  # type: ignore[arg-type]
    if since is not None:
        query = query.where(AuditLog.created_at >= since)
    for entry in (await db.exec(query)).all():
        yield _row(entry)


async def export(db: AsyncSession, out: IO[str], fmt: str, since: datetime | None = None) -> int:
    """Write the audit log as JSONL or CSV to `out`; return the number of rows."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    async for row in iter_entries(db, since):
        if writer:
            writer.writerow(row | {"data": json.dumps(row["data"], sort_keys=True)})
        else:
            out.write(json.dumps(row, sort_keys=True) + "\n")
        count += 1
    return count
