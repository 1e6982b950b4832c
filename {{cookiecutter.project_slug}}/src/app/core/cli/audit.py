"""`app audit export` (the filtered log, streamed to a file) and `app audit prune` (the retention).

Both go through app.core.audit a batch at a time, so they run in constant memory however long
the log, and hold the database (on SQLite: its one writer) only for a batch at a time.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import anyio
import click
from litestar import Litestar
from litestar.cli._utils import LitestarGroup
from rich_click import RichCommand

from app.core import clock
from app.core.audit import AuditFilter, ip_address, prune, time_bound
from app.core.audit_export import export
from app.core.db import Database
from app.settings import Settings

TIME_HELP = "A date (2026-01-31) or an ISO 8601 time; UTC unless it names a zone."


def _parsed(parse: Callable[[str], Any], what: str) -> Callable[[click.Context, click.Parameter, str | None], Any]:
    """A click callback: the option's value through `parse`, or a usage error naming `what` was expected."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not {what}.", ctx, param) from None

    return callback


def _target(value: str) -> tuple[str, str | None]:
    """`user:<id>` -> ("user", "<id>"); `session` -> every target of that type."""
    target_type, _, target_id = value.partition(":")
    if not target_type or len(target_type) > 40 or len(target_id) > 64:
        raise ValueError(value)
    return target_type, target_id or None


@click.group(cls=LitestarGroup, name="audit", help="The audit log.")
def audit_group() -> None:
    """The audit log."""


@click.command(cls=RichCommand, name="export", help="Write the audit log, oldest first, as JSONL (default) or CSV.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@click.option("--since", callback=_parsed(time_bound, "a date or time"), help=f"From this moment on. {TIME_HELP}")
@click.option(
    "--until",
    callback=_parsed(lambda v: time_bound(v, end=True), "a date or time"),
    help=f"Before this moment (a date: to the end of that day). {TIME_HELP}",
)
@click.option("--event", default=None, help="Only this event, e.g. user.banned.")
@click.option("--actor", type=click.UUID, default=None, help="Only what this user id did.")
@click.option(
    "--target", callback=_parsed(_target, "TYPE or TYPE:ID"), help="Only what was done to TYPE (user) or TYPE:ID."
)
@click.option("--ip", callback=_parsed(ip_address, "an IP address"), help="Only requests from this IP address.")
def audit_export(
    app: Litestar,
    fmt: str,
    output: Path | None,
    since: datetime | None,
    until: datetime | None,
    event: str | None,
    actor: uuid.UUID | None,
    target: tuple[str, str | None] | None,
    ip: str | None,
) -> None:
    db: Database = app.state.db
    target_type, target_id = target or (None, None)
    where = AuditFilter(
        event=event, actor_id=actor, target_type=target_type, target_id=target_id, ip=ip, since=since, until=until
    )

    async def run(out: IO[str]) -> int:
        try:
            return await export(db.sessions, out, fmt, where)
        finally:
            await db.dispose()

    if output is None:
        count = anyio.run(run, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as handle:
            count = anyio.run(run, handle)
    click.echo(f"Exported {count} audit entries.", err=True)


@click.command(
    cls=RichCommand,
    name="prune",
    help="Delete the entries older than AUDIT_RETENTION_DAYS (or --older-than DAYS); run it daily.",
)
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1, max=36500),
    default=None,
    help="Days to keep, instead of AUDIT_RETENTION_DAYS.",
)
def audit_prune(app: Litestar, days: int | None) -> None:
    settings: Settings = app.state.settings
    db: Database = app.state.db
    days = days or settings.audit.retention_days
    if not days:
        raise click.UsageError("AUDIT_RETENTION_DAYS is not set (the log is kept forever): pass --older-than DAYS.")
    # The clock the tests stop (app.core.clock), so that what is "older" never depends on when they run.
    before = datetime.fromtimestamp(clock.now(), UTC) - timedelta(days=days)

    async def run() -> int:
        try:
            return await prune(db.sessions, before)
        finally:
            await db.dispose()

    deleted = anyio.run(run)
    click.echo(f"Deleted {deleted} audit entries older than {days} days (before {before:%Y-%m-%d %H:%M} UTC).")


audit_group.add_command(audit_export)
audit_group.add_command(audit_prune)
