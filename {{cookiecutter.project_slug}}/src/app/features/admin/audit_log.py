"""The audit log in the console: the viewer's filter, its pages, a user's recent activity, the export.

The rows, their keyset reading and their formats are the core's (app.core.audit and
app.core.audit_export). What is the console's: reading what an admin typed into a filter (an
actor by email or id, a target, an IP, dates), paging newest first after a cursor, showing actors
and targets by their email, and recording who downloaded which part of the log, before the first
byte of it leaves.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, User
from app.core.audit import (
    AuditFilter,
    AuditLog,
    Party,
    Sessions,
    event_names,
    ip_address,
    read_batch,
    recent,
    time_bound,
)
from app.core.audit_export import export_chunks
from app.core.errors import AppError, InvalidInput
from app.core.events import RequestMeta
from app.features.admin.listing import decode_cursor, encode_cursor
from app.features.admin.service import Actor

AUDIT_EXPORTED = "admin.audit_exported"
USER_TARGET = "user"  # the target type of the events about a user
FORMATS = ("jsonl", "csv")
# The viewer's filter, as the form and the links name its fields; every one is optional.
FILTER_FIELDS = ("event", "actor", "target_type", "target_id", "ip", "from", "to", "user")
RECENT = 10  # entries of a user's recent activity on their page
LONGEST = {"event": 60, "target_type": 40, "target_id": 64}  # the columns' lengths


@dataclass(frozen=True)
class Shown:
    """An entry as the console shows it: its actor and target user by email, while they exist."""

    entry: AuditLog
    actor_email: str | None
    target_email: str | None
    details: str  # the entry's data as compact key=value text


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first, and the cursor of the next (older) one."""

    entries: list[Shown]
    next_cursor: str | None


async def parse_filter(db: AsyncSession, kit: AuthKit, form: Mapping[str, str]) -> AuditFilter:
    """The filter an admin typed (FILTER_FIELDS, "" when not given); InvalidInput naming the field."""
    value = {name: (form.get(name) or "").strip() for name in FILTER_FIELDS}
    for name, most in LONGEST.items():
        if len(value[name]) > most:
            raise InvalidInput(f"Longer than any in the log: at most {most} characters.", field=name)
    if value["target_id"] and not value["target_type"]:
        raise InvalidInput("Say what the target is (user, session ...) with its id.", field="target_type")
    if value["user"] and (value["actor"] or value["target_type"]):
        raise InvalidInput("Filter by the user involved, or by actor and target: not both.", field="user")
    since = _moment(value["from"], "from", end=False)
    until = _moment(value["to"], "to", end=True)
    if since and until and until <= since:
        raise InvalidInput("The range ends before it starts.", field="to")
    try:
        ip = ip_address(value["ip"]) if value["ip"] else None
    except ValueError:
        raise InvalidInput("Enter an IP address, such as 203.0.113.7 or 2001:db8::1.", field="ip") from None
    involved = await _user_id(db, kit, value["user"], "user") if value["user"] else None
    return AuditFilter(
        event=value["event"] or None,
        actor_id=await _user_id(db, kit, value["actor"], "actor") if value["actor"] else None,
        target_type=value["target_type"] or None,
        target_id=value["target_id"] or None,
        ip=ip,
        since=since,
        until=until,
        party=Party(involved, USER_TARGET) if involved else None,
    )


def _moment(text: str, field: str, *, end: bool) -> datetime | None:
    if not text:
        return None
    try:
        return time_bound(text, end=end)
    except ValueError:
        raise InvalidInput("Enter a date such as 2026-01-31, or a time (2026-01-31T14:30).", field=field) from None


async def _user_id(db: AsyncSession, kit: AuthKit, text: str, field: str) -> uuid.UUID:
    """A user named by id (kept in the log after they are deleted) or by their email address."""
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    try:
        user = await kit.user_by_email(db, kit.normalize_email(text))
    except AppError:
        raise InvalidInput("Enter a user's email address or id.", field=field) from None
    if user is None:
        raise InvalidInput(f"No user has the email address {text}.", field=field)
    return user.id


async def audit_page(db: AsyncSession, where: AuditFilter, cursor: str | None, size: int) -> AuditPage:
    """A page of the filter's entries, newest first, after `cursor`; InvalidInput for a cursor not ours."""
    after = decode_cursor(cursor, "createdAt") if cursor else None
    rows = await read_batch(db, where, after=after, limit=size + 1, newest_first=True)
    more, rows = len(rows) > size, rows[:size]
    return AuditPage(await shown(db, rows), encode_cursor(*rows[-1].position) if more else None)


async def recent_activity(db: AsyncSession, user_id: uuid.UUID) -> list[Shown]:
    """The user's last entries, as actor or target, newest first."""
    return await shown(db, await recent(db, Party(user_id, USER_TARGET), RECENT))


async def known_events(db: AsyncSession) -> list[str]:
    """The event names in the log, for the filter's suggestions."""
    return await event_names(db)


async def shown(db: AsyncSession, entries: Iterable[AuditLog]) -> list[Shown]:
    """The entries with their actors' and target users' emails (one query for the page)."""
    entries = list(entries)
    ids = {entry.actor_id for entry in entries if entry.actor_id}
    ids |= {key for entry in entries if (key := _target_user(entry))}
    rows = (await db.exec(select(User.id, User.email).where(col(User.id).in_(ids)))).all() if ids else []
    emails = dict(rows)
    return [
        Shown(
            entry,
            emails.get(entry.actor_id) if entry.actor_id else None,
            emails.get(target) if (target := _target_user(entry)) else None,
            compact(entry.data),
        )
        for entry in entries
    ]


def _target_user(entry: AuditLog) -> uuid.UUID | None:
    if entry.target_type != USER_TARGET or not entry.target_id:
        return None
    try:
        return uuid.UUID(entry.target_id)
    except ValueError:
        return None


def compact(data: Mapping[str, object]) -> str:
    """An entry's data on one line: `reason=chargebacks until=2026-02-01`."""
    return " ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value, separators=(',', ':'))}"
        for key, value in data.items()
    )


async def start_export(
    db: AsyncSession, kit: AuthKit, meta: RequestMeta, actor: Actor, sessions: Sessions, where: AuditFilter, fmt: str
) -> AsyncIterator[str]:
    """Record the export (committed now, before any of it is sent), then give its text chunks.

    The chunks are read with sessions of their own (`sessions`), a batch at a time: the request's
    session is done before the download starts."""
    if fmt not in FORMATS:
        raise InvalidInput("Export as csv or jsonl.", field="format")
    await kit.record(
        db, AUDIT_EXPORTED, meta, actor=actor.user_id, target_type="audit_log", format=fmt, filters=where.describe()
    )
    await db.commit()
    return export_chunks(sessions, fmt, where)
