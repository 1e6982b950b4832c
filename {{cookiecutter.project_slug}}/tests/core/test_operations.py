"""Settings validation, health and readiness, migrations, and the CLI commands."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import anyio.to_thread
import pytest
from alembic import command
from litestar import Litestar

from app.migrations import alembic_config
from app.settings import SettingsError, load_settings
from tests.cli import run_app, run_app_process
from tests.conftest import BASE_URL, AppFactory, Client, signed_in


def test_production_problems_are_listed_all_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            app={"env": "production", "base_url": "http://insecure.example", "debug": True},
            secrets={"secret_key": "generate"},
        )
    text = "\n".join(caught.value.problems)
    assert "SECRET_KEY" in text and "https" in text and "APP_DEBUG" in text


def test_invalid_values_name_the_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            database={"url": "mysql://x"}, mail={"backend": "carrier-pigeon"}, auth={"session_max_age": "soon"}
        )
    text = "\n".join(caught.value.problems)
    assert "DATABASE_URL" in text and "MAIL_BACKEND" in text and "AUTH_SESSION_MAX_AGE" in text


def test_bad_configuration_exits_cleanly_without_traceback(tmp_path: Path) -> None:
    result = run_app_process(
        "routes",
        env={
            "APP_ENV": "production",
            "APP_BASE_URL": "http://x.example",
            "SECRET_KEY": "short",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
        },
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "SECRET_KEY" in result.stderr and "APP_BASE_URL" in result.stderr


async def test_health_and_readiness(client: Client, database_url: str) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["pending_migrations"] == []
    await anyio.to_thread.run_sync(command.downgrade, alembic_config(database_url), "base")
    not_ready = await client.get("/ready")
    assert not_ready.status_code == 503
    await anyio.to_thread.run_sync(command.upgrade, alembic_config(database_url), "heads")


async def test_what_startup_built_is_left_out_of_garbage_collection_until_shutdown(app: Litestar) -> None:
    gc.unfreeze()  # whatever another app of this process froze
    assert gc.get_freeze_count() == 0
    async with app.lifespan():  # what a server runs: startup ...
        assert gc.get_freeze_count() > 0
        async with Client(app=app, base_url=BASE_URL) as client:
            assert (await client.get("/health")).status_code == 200
    assert gc.get_freeze_count() == 0  # ... and shutdown: an app dropped in-process can be collected


def test_migrations_match_the_models(database_url: str) -> None:
    command.check(alembic_config(database_url))


def test_cli_creates_users_from_the_environment_never_an_argument(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    env = {"DATABASE_URL": url, "APP_ENV": "test"}
    assert run_app("db", "upgrade", env=env).returncode == 0
    created = run_app(
        "users",
        "create",
        "--email",
        "Admin@Example.com",
        "--name",
        "Admin",
        "--admin",
        env=env | {"APP_NEW_USER_PASSWORD": "correct horse battery staple"},
    )
    assert created.returncode == 0, created.stderr
    assert "admin user" in created.stdout
    duplicate = run_app(
        "users",
        "create",
        "--email",
        "admin@example.com",
        "--name",
        "Admin",
        env=env | {"APP_NEW_USER_PASSWORD": "correct horse battery staple"},
    )
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    prompted = run_app(
        "users",
        "create",
        "--email",
        "p@example.com",
        "--name",
        "P",
        env=env,
        stdin="another strong passphrase\nanother strong passphrase\n",
    )
    assert prompted.returncode == 0, prompted.stderr
    refused = run_app("users", "create", "--email", "q@example.com", "--name", "Q", "--password", "x", env=env)
    assert refused.returncode != 0 and "No such option" in refused.stderr


async def test_audit_export_and_cleanup(client: Client, app: Litestar, database_url: str, tmp_path: Path) -> None:
    await signed_in(client)
    env = {"DATABASE_URL": database_url, "APP_ENV": "test"}
    jsonl = await anyio.to_thread.run_sync(lambda: run_app("audit", "export", env=env))
    assert jsonl.returncode == 0, jsonl.stderr
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert {"user.created", "session.created"} <= {r["event"] for r in rows}
    out = tmp_path / "audit.csv"
    csv = await anyio.to_thread.run_sync(lambda: run_app("audit", "export", "--format", "csv", "-o", str(out), env=env))
    assert csv.returncode == 0
    assert out.read_text().splitlines()[0].startswith("id,created_at,event")
    cleanup = await anyio.to_thread.run_sync(lambda: run_app("sessions", "cleanup", env=env))
    assert cleanup.returncode == 0 and "Deleted 0 expired sessions" in cleanup.stdout


def test_preflight_reports_a_checklist(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/pre.db", "APP_ENV": "test", "MAIL_BACKEND": "console"}
    pending = run_app("check", env=env)
    assert pending.returncode == 1 and "[FAIL] database" in pending.stdout
    run_app("db", "upgrade", env=env)
    good = run_app("check", env=env)
    assert good.returncode == 0, good.stdout
    assert "[PASS] database" in good.stdout
    bad = run_app("check", env=env | {"APP_ENV": "production"})
    assert bad.returncode == 1 and "[FAIL] settings" in bad.stdout and "Traceback" not in bad.stdout + bad.stderr


def test_settings_group_overrides_apply(make_app: AppFactory) -> None:
    assert make_app(auth={"fresh_age": 60}).state.settings.auth.fresh_age == 60
