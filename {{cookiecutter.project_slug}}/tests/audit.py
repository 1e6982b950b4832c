"""Audit entries written straight into the log, at the times a test chooses, and the log read back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from sqlmodel import col, select

from app.core.audit import AuditLog

AT = datetime(2031, 3, 2, 12, 0, tzinfo=UTC)  # a fixed moment, far from the wall clock's


def entry(event: str = "demo.happened", at: datetime = AT, **fields: Any) -> AuditLog:
    """An audit row (target_type "thing" unless given) at `at`."""
    return AuditLog(event=event, created_at=at, **({"target_type": "thing"} | fields))


async def add_entries(app: Litestar, entries: list[AuditLog]) -> list[uuid.UUID]:
    """Write the rows, in one transaction; their ids."""
    async with app.state.db.sessions() as db:
        db.add_all(entries)
        await db.commit()
    return [row.id for row in entries]


async def logged(app: Litestar, event: str) -> list[AuditLog]:
    """The rows of one event, oldest first."""
    async with app.state.db.sessions() as db:
        query = select(AuditLog).where(AuditLog.event == event).order_by(col(AuditLog.created_at), col(AuditLog.id))
        return list((await db.exec(query)).all())
