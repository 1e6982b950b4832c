"""A served project under a crowd, with its default settings (rate limits raised): no 5xx, nothing lost.

The issue's own measurement, black-box: uvicorn serving a baked project, real password hashing,
1,000 sign-ups of distinct addresses 100 at a time, then 200 sign-ins at once, then 50 sign-ups
of one address at once. On SQLite (the default) that gave 83 x 500 ("database is locked") and
25 x 500 on sign-in; one address 9 x 500. Every answer must be clean, every sign-up answered 200
must be a row, one address must make one user, and the server must log no traceback.
"""

from __future__ import annotations

import json
import secrets
import socket
import sqlite3
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.bake import ROOT, combos
from tests.conftest import Baked, Baker
from tests.project_venv import postgres_sql, project_environment, run_in_project

LOAD_SCRIPT = ROOT / "tests" / "load" / "signups.py"
RAISED_LIMITS = {
    "RATE_LIMIT_GENERAL": "1000000",
    "RATE_LIMIT_SIGN_IN": "1000000",
    "RATE_LIMIT_SIGN_UP": "1000000",
    "RATE_LIMIT_MAIL_PER_ADDRESS": "1000000",
}
COMBOS = {combo.id: combo for combo in combos()}
load = pytest.mark.bake


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(venv: Path, project: Path, database_url: str, log: Path) -> Iterator[str]:
    """The project migrated and served by uvicorn (development settings, mail printed); its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    extra = {"DATABASE_URL": database_url, "APP_BASE_URL": url, "MAIL_BACKEND": "console", **RAISED_LIMITS}
    extra["SECRET_KEY"] = secrets.token_urlsafe(36)
    run_in_project(venv, project, ["-m", "app", "db", "upgrade"], timeout=120, **extra)
    serve = ["-m", "uvicorn", "--factory", "app.asgi:create_app", "--port", str(port), "--no-access-log"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(venv / "bin" / "python"), *serve],
            cwd=project,
            env=project_environment(venv, project, **extra),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60  # starting: a deadline, not a measurement
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):  # noqa: S310 - our own server
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the project did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def crowd(venv: Path, project: Path, url: str) -> dict[str, object]:
    output = run_in_project(venv, project, [str(LOAD_SCRIPT), url], timeout=900)
    report: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return report


def check(report: dict[str, object], log: Path) -> list[str]:
    """Every phase answered 200 only, with one answer shape; the addresses that signed up."""
    for phase in ("sign-ups", "sign-ins", "same-address"):
        outcome = report[phase]
        assert isinstance(outcome, dict)
        assert set(outcome["statuses"]) == {"200"}, f"{phase}: {outcome['statuses']}"
        assert len(outcome["shapes"]) == 1, f"{phase}: answers of different shapes {outcome['shapes']}"
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and " 500 " not in text, text[-5000:]
    signed_up = report["signed_up"]
    assert isinstance(signed_up, list) and len(signed_up) == 1000
    return [str(email) for email in signed_up]


@load
def test_sqlite_under_a_crowd(baker: Baker, venv_for: Callable[[Baked], Path], tmp_path: Path) -> None:
    baked = baker(COMBOS["defaults"])
    venv = venv_for(baked)
    database = tmp_path / "load.db"
    log = tmp_path / "server.log"
    with served(venv, baked.work, f"sqlite+aiosqlite:///{database}", log) as url:
        report = crowd(venv, baked.work, url)
    emails = check(report, log)
    with closing(sqlite3.connect(database)) as db:
        stored = {row[0] for row in db.execute('SELECT email FROM "user"')}
    assert set(emails) <= stored  # every sign-up answered 200 is a row
    assert sum(1 for email in stored if email == report["same_address"]) == 1


@load
def test_postgresql_under_a_crowd(baker: Baker, venv_for: Callable[[Baked], Path], tmp_path: Path) -> None:
    baked = baker(COMBOS["postgresql-all-on"])
    venv = venv_for(baked)
    name = f"template_load_{uuid.uuid4().hex[:12]}"
    postgres_sql(venv, f'CREATE DATABASE "{name}"')
    log = tmp_path / "server.log"
    try:
        with served(venv, baked.work, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", log) as url:
            report = crowd(venv, baked.work, url)
        emails = check(report, log)
        count = run_in_project(
            venv,
            baked.work,
            [
                "-c",
                _COUNT,
                f"postgresql://postgres@127.0.0.1:5432/{name}",
                str(report["same_address"]),
                *emails,
            ],
        )
        assert count.split() == ["1000", "1"]
    finally:
        postgres_sql(venv, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Counts, with the project's asyncpg: how many of the given addresses are users, and users of one address.
_COUNT = """
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1])
    try:
        found = await conn.fetchval('SELECT count(*) FROM "user" WHERE email = any($1::text[])', sys.argv[3:])
        same = await conn.fetchval('SELECT count(*) FROM "user" WHERE email = $1', sys.argv[2])
    finally:
        await conn.close()
    print(found, same)
asyncio.run(main())
"""
