"""The audit log's reader and retention (app.core.audit), its exports (app.core.audit_export), and
`app audit export|prune`."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio.to_thread
import pytest
from litestar import Litestar

from app.core.audit import AuditFilter, AuditLog, Party, batches, prune, time_bound
from app.core.audit_export import csv_cell, csv_chunks, jsonl_chunks
from app.settings import AuditSettings, load_settings
from tests.audit import AT, add_entries, entry, logged
from tests.cli import run_app
from tests.conftest import FROZEN_START, settings_problems


async def _read(app: Litestar, where: AuditFilter, *, newest_first: bool = False, size: int = 4) -> list[uuid.UUID]:
    found = []
    async for batch in batches(app.state.db.sessions, where, newest_first=newest_first, size=size):
        assert 0 < len(batch) <= size
        found += [row.id for row in batch]
    return found


async def test_batches_walk_every_row_once_in_order_even_when_times_are_equal(app: Litestar) -> None:
    # Three rows a moment: a batch boundary falls between rows of the same time, which only the id orders.
    rows = [entry("demo.keyset", AT + timedelta(seconds=i // 3), data={"n": i}) for i in range(14)]
    await add_entries(app, rows)
    oldest_first = await _read(app, AuditFilter(event="demo.keyset"))
    expected = [row.id for row in sorted(rows, key=lambda row: row.position)]
    assert oldest_first == expected
    assert await _read(app, AuditFilter(event="demo.keyset"), newest_first=True) == expected[::-1]
    assert await _read(app, AuditFilter(event="demo.keyset"), size=7) == expected  # the last batch is full
    assert await _read(app, AuditFilter(event="demo.none")) == []


async def test_each_filter_narrows_the_rows(app: Litestar) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    rows = {
        "by ada": entry("demo.filter", AT, actor_id=ada, ip="203.0.113.7"),
        "on ada": entry("demo.filter", AT + timedelta(hours=1), actor_id=bob, target_type="user", target_id=str(ada)),
        "other event": entry("demo.other", AT + timedelta(hours=2), actor_id=ada),
        "a day later": entry("demo.filter", AT + timedelta(days=1), target_type="session", target_id="s-1"),
    }
    await add_entries(app, list(rows.values()))

    async def named(**fields: object) -> set[str]:
        ids = set(await _read(app, AuditFilter(**fields)))  # type: ignore[arg-type]
        return {name for name, row in rows.items() if row.id in ids}

    assert await named(event="demo.filter") == {"by ada", "on ada", "a day later"}
    assert await named(actor_id=ada) == {"by ada", "other event"}
    assert await named(target_type="user", target_id=str(ada)) == {"on ada"}
    assert await named(target_type="session") == {"a day later"}
    assert await named(ip="203.0.113.7") == {"by ada"}
    assert await named(event="demo.filter", since=AT + timedelta(minutes=30)) == {"on ada", "a day later"}
    assert await named(event="demo.filter", until=AT + timedelta(hours=1)) == {"by ada"}  # until is exclusive
    assert await named(party=Party(ada, "user")) == {"by ada", "on ada", "other event"}
    assert await named(party=Party(ada, "user"), event="demo.other") == {"other event"}


def test_a_date_ends_a_range_with_its_whole_day_and_times_are_utc_unless_zoned() -> None:
    assert time_bound("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    assert time_bound("2026-01-31", end=True) == datetime(2026, 2, 1, tzinfo=UTC)
    assert time_bound("2026-01-31T14:30", end=True) == datetime(2026, 1, 31, 14, 30, tzinfo=UTC)
    assert time_bound("2026-01-31T14:30+02:00") == datetime(2026, 1, 31, 12, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        time_bound("yesterday")


async def _one_batch(rows: list[AuditLog]) -> AsyncIterator[list[AuditLog]]:
    yield rows


async def test_csv_cells_never_run_as_formulas_and_jsonl_keeps_values_as_they_are() -> None:
    hostile = ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
    for value in hostile:
        assert csv_cell(value) == "'" + value
    assert csv_cell("Ada") == "Ada" and csv_cell(None) == "" and csv_cell({"b": 1, "a": "=x"}) == '{"a": "=x", "b": 1}'
    rows = [entry("demo.csv", AT, user_agent=agent, data={"name": agent}) for agent in hostile]
    text = "".join([chunk async for chunk in csv_chunks(_one_batch(rows))])
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [row["user_agent"] for row in parsed] == ["'" + agent for agent in hostile]
    assert [json.loads(row["data"])["name"] for row in parsed] == hostile  # the JSON cell starts with "{"
    lines = "".join([chunk async for chunk in jsonl_chunks(_one_batch(rows))])
    assert [json.loads(line)["user_agent"] for line in lines.splitlines()] == hostile


async def test_an_empty_csv_export_is_its_header() -> None:
    text = "".join([chunk async for chunk in csv_chunks(_one_batch([]))])
    assert text.strip() == "id,created_at,event,actor_id,target_type,target_id,ip,user_agent,data"


async def test_the_export_command_filters_as_the_viewer_does(app: Litestar, database_url: str, tmp_path: Path) -> None:
    ada = uuid.uuid4()
    rows = [
        entry("demo.cli", AT, actor_id=ada, ip="2001:db8::1", target_type="user", target_id=str(ada)),
        entry("demo.cli", AT + timedelta(days=2), actor_id=ada),
        entry("demo.cli", AT, user_agent="=cmd|' /C calc'!A0"),
    ]
    await add_entries(app, rows)
    env = {"DATABASE_URL": database_url, "APP_ENV": "test"}

    async def export(*args: str) -> list[str]:
        done = await anyio.to_thread.run_sync(lambda: run_app("audit", "export", "--event", "demo.cli", *args, env=env))
        assert done.returncode == 0, done.stderr
        return [json.loads(line)["id"] for line in done.stdout.splitlines()]

    assert await export() == [str(row.id) for row in sorted(rows, key=lambda row: row.position)]
    assert set(await export("--actor", str(ada))) == {str(rows[0].id), str(rows[1].id)}
    assert await export("--ip", "2001:DB8::1") == [str(rows[0].id)]
    assert await export("--target", f"user:{ada}") == [str(rows[0].id)]
    assert await export("--until", "2031-03-02", "--actor", str(ada)) == [str(rows[0].id)]
    assert await export("--since", "2031-03-03") == [str(rows[1].id)]
    out = tmp_path / "audit.csv"
    written = await anyio.to_thread.run_sync(
        lambda: run_app("audit", "export", "--event", "demo.cli", "--format", "csv", "-o", str(out), env=env)
    )
    assert written.returncode == 0 and "Exported 3 audit entries" in written.stderr
    agents = {row["id"]: row["user_agent"] for row in csv.DictReader(out.open(encoding="utf-8", newline=""))}
    assert agents[str(rows[2].id)] == "'=cmd|' /C calc'!A0"
    bad = await anyio.to_thread.run_sync(lambda: run_app("audit", "export", "--ip", "not-an-ip", env=env))
    assert bad.returncode == 2 and "not an IP address" in bad.stderr and "Traceback" not in bad.stderr


async def test_prune_deletes_exactly_the_entries_older_than_the_retention(app: Litestar, database_url: str) -> None:
    now = datetime.fromtimestamp(FROZEN_START, UTC)  # the clock every test runs with (tests/conftest.py)
    ages = {"100 days": 100, "31 days": 31, "29 days": 29, "1 hour": 1 / 24}
    rows = {name: entry("demo.prune", now - timedelta(days=days)) for name, days in ages.items()}
    await add_entries(app, list(rows.values()))
    env = {"DATABASE_URL": database_url, "APP_ENV": "test"}

    async def run_prune(*args: str, **extra: str) -> tuple[int, str, set[str]]:
        done = await anyio.to_thread.run_sync(lambda: run_app("audit", "prune", *args, env=env | extra))
        kept = {row.id for row in await logged(app, "demo.prune")}
        return done.returncode, done.stdout + done.stderr, {name for name, row in rows.items() if row.id in kept}

    code, output, kept = await run_prune()
    assert code != 0 and "AUDIT_RETENTION_DAYS is not set" in output and len(kept) == 4
    code, output, kept = await run_prune(AUDIT_RETENTION_DAYS="90")
    assert code == 0 and "Deleted 1 audit entries older than 90 days" in output
    assert kept == {"31 days", "29 days", "1 hour"}
    code, output, kept = await run_prune("--older-than", "30", AUDIT_RETENTION_DAYS="90")  # the option wins
    assert code == 0 and "Deleted 1 audit entries older than 30 days" in output and kept == {"29 days", "1 hour"}
    code, output, kept = await run_prune("--older-than", "30")
    assert code == 0 and "Deleted 0 audit entries" in output and kept == {"29 days", "1 hour"}


async def test_prune_works_in_batches(app: Litestar) -> None:
    await add_entries(app, [entry("demo.batch", AT - timedelta(days=i + 1)) for i in range(7)] + [entry("demo.batch")])
    assert await prune(app.state.db.sessions, AT, size=3) == 7
    assert [row.created_at for row in await logged(app, "demo.batch")] == [AT]


def test_the_retention_setting_is_validated_with_the_others() -> None:
    assert AuditSettings.model_fields["retention_days"].default == 0  # kept forever unless set
    assert load_settings(audit={"retention_days": ""}).audit.retention_days == 0
    assert load_settings(audit={"retention_days": "365"}).audit.retention_days == 365
    problems = settings_problems(audit={"retention_days": -1}, auth={"session_max_age": "soon"})
    assert any(p.startswith("AUDIT_RETENTION_DAYS") for p in problems), problems
    assert any(p.startswith("AUTH_SESSION_MAX_AGE") for p in problems)  # listed together, at once
    assert any(p.startswith("AUDIT_RETENTION_DAYS") for p in settings_problems(audit={"retention_days": "forever"}))
