"""The audit log's exports: CSV and JSON Lines, written a batch of rows at a time.

The writers turn the batches of app.core.audit's reader into text chunks, for a file (`app audit
export`) or a streamed download (the admin console's); neither ever holds more than a batch.
Names and user agents in the log are whatever people typed or sent, so a CSV cell that a
spreadsheet would run as a formula is written as text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import IO, Any

from app.core.audit import AuditFilter, AuditLog, Sessions, batches

FIELDS = ("id", "created_at", "event", "actor_id", "target_type", "target_id", "ip", "user_agent", "data")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a
# cell gets a leading apostrophe, which spreadsheets show as text and do not run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_row(entry: AuditLog) -> dict[str, Any]:
    """An entry as the exports write it: plain values, UTC times in ISO 8601."""
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


def csv_cell(value: object) -> str:
    """A value as a CSV cell that no spreadsheet runs as a formula (names and user agents are
    whatever people typed or sent)."""
    cell = "" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


async def csv_chunks(source: AsyncIterable[list[AuditLog]]) -> AsyncIterator[str]:
    """CSV text: the header, then a chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    yield _take(buffer)
    async for batch in source:
        writer.writerows([csv_cell(value) for value in as_row(entry).values()] for entry in batch)
        yield _take(buffer)


async def jsonl_chunks(source: AsyncIterable[list[AuditLog]]) -> AsyncIterator[str]:
    """JSON Lines: one object a line, a chunk per batch of rows."""
    async for batch in source:
        yield "".join(json.dumps(as_row(entry), sort_keys=True) + "\n" for entry in batch)


def _take(buffer: io.StringIO) -> str:
    chunk = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return chunk


WRITERS: dict[str, Callable[[AsyncIterable[list[AuditLog]]], AsyncIterator[str]]] = {
    "csv": csv_chunks,
    "jsonl": jsonl_chunks,
}


def export_chunks(sessions: Sessions, fmt: str, where: AuditFilter) -> AsyncIterator[str]:
    """The rows of the filter, oldest first, as text chunks of `fmt` ("csv" or "jsonl")."""
    return WRITERS[fmt](batches(sessions, where))


async def export(sessions: Sessions, out: IO[str], fmt: str, where: AuditFilter | None = None) -> int:
    """Write the rows of the filter, oldest first, as `fmt` to `out`; the number of rows."""
    count = 0

    async def counted() -> AsyncIterator[list[AuditLog]]:
        nonlocal count
        async for batch in batches(sessions, where or AuditFilter()):
            count += len(batch)
            yield batch

    async for chunk in WRITERS[fmt](counted()):
        out.write(chunk)
    return count
