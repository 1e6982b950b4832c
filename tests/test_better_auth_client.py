"""Better Auth's own client (`better-auth` from npm, unmodified) against a running generated project.

Bakes the default project, migrates a temporary SQLite database, serves the app with uvicorn and
runs tests/better_auth_client/client_flow.mjs against it: sign-up, sign-in, get-session,
change-password, sign-out, sign-in with the new password, then listSessions, revokeSession and
revokeOtherSessions against other devices, then the admin plugin's client (adminClient) as an
admin made with `app users create --admin`. Needs Node.js and npm: without them
this test fails, it never skips, since the compatibility claim would then go unchecked.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bake import ROOT, bake_cookiecutter, run
from tests.project_venv import VENV, ensure_venv, project_environment, project_requirements

CLIENT_DIR = ROOT / "tests" / "better_auth_client"
# Written by `npm ci` into node_modules: stale when the lock file no longer matches it.
INSTALLED_STAMP = CLIENT_DIR / "node_modules" / ".template-tests-lock.sha256"
# Variables of the caller that would leak into the project's settings or interpreter.
SCRUBBED = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
STEPS = [
    "sign-up",
    "sign-in",
    "get-session",
    "change-password",
    "sign-out",
    "get-session (signed out)",
    "sign-in (new password)",
    "list-sessions",
    "revoke-session",
    "get-session (laptop, revoked)",
    "revoke-other-sessions",
    "get-session (phone, revoked)",
    "admin: list-users",
    "admin: revoke-user-session",
    "admin: set-role",
    "admin: has-permission",
    "admin: ban-user",
    "admin: banned sign-in refused",
    "admin: unban-user",
    "admin: revoke-user-sessions",
    "admin: create-user",
    "admin: set-user-password",
    "admin: remove-user",
    "admin: list-users as a user refused",
]
ADMIN_EMAIL = "ba-admin@example.com"
ADMIN_PASSWORD = "Harbor-admin-lantern-2026"  # noqa: S105 - a test account's


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: this test runs Better Auth's npm client with Node.js 20+. "
            "Install Node.js and npm (Debian: apt-get install nodejs npm).",
            pytrace=False,
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def client_dir() -> Path:
    """tests/better_auth_client with `npm ci` done, unless node_modules already matches the lock file."""
    node, npm = _tool("node"), _tool("npm")
    version = run([node, "--version"], cwd=CLIENT_DIR).strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"Node.js {version} is too old: Better Auth's client needs Node.js 20+.", pytrace=False)
    lock = hashlib.sha256((CLIENT_DIR / "package-lock.json").read_bytes()).hexdigest()
    if not INSTALLED_STAMP.exists() or INSTALLED_STAMP.read_text("utf-8") != lock:
        run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT_DIR, timeout=600)
        INSTALLED_STAMP.write_text(lock, "utf-8")
    return CLIENT_DIR


@pytest.fixture
def server(template: Path, cookiecutter_config: Path, tmp_path: Path) -> Iterator[str]:
    """The default project, baked, migrated and served on a free port; yields its base URL."""
    project = bake_cookiecutter(template, tmp_path / "bake", {}, cookiecutter_config)
    python = str(ensure_venv(project_requirements(project)) / "bin" / "python")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = project_environment(
        VENV,
        project,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        APP_ENV="test",
        APP_BASE_URL=base_url,
        SECRET_KEY=secrets.token_urlsafe(36),  # 48 characters
        MAIL_BACKEND="console",
    )
    run([python, "-m", "app", "db", "upgrade"], cwd=project, env=env, timeout=120)
    # The admin console (on by default) is driven by the admin plugin's client as this admin.
    create_admin = ["users", "create", "--email", ADMIN_EMAIL, "--name", "Admin", "--admin"]
    admin_env = {**env, "APP_NEW_USER_PASSWORD": ADMIN_PASSWORD}
    run([python, "-m", "app", *create_admin], cwd=project, env=admin_env, timeout=120)
    log_path = tmp_path / "server.log"
    serve = ["uvicorn", "--factory", "app.asgi:create_app", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [python, "-m", *serve, "--no-access-log"],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_health(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_health(
    process: subprocess.Popen[bytes], base_url: str, log_path: Path, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited {process.returncode}:\n{_tail(log_path)}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"{base_url}/health did not answer within {timeout:.0f}s:\n{_tail(log_path)}", pytrace=False)


def _tail(path: Path, limit: int = 6000) -> str:
    text = path.read_text("utf-8", errors="replace")
    return text[-limit:]


@pytest.mark.client
def test_better_auth_client_flow(client_dir: Path, server: str, tmp_path: Path) -> None:
    """Sign-up to session revocation with `createAuthClient`, unmodified."""
    node = _tool("node")
    completed = subprocess.run(
        [node, "client_flow.mjs", server, ADMIN_EMAIL, ADMIN_PASSWORD],
        cwd=client_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    server_log = _tail(tmp_path / "server.log")
    assert completed.returncode == 0, (
        f"client_flow.mjs exited {completed.returncode}\n--- stderr\n{completed.stderr}"
        f"\n--- stdout\n{completed.stdout}\n--- server log (tail)\n{server_log}"
    )
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON summary line, got:\n{completed.stdout}"
    summary: dict[str, Any] = json.loads(lines[0])
    assert summary["ok"] is True
    assert summary["baseURL"] == server
    assert summary["betterAuth"].startswith("1."), summary
    assert summary["userId"]
    missing = [step for step in STEPS if step not in summary["steps"]]
    assert not missing, f"steps not run: {missing}; summary: {summary}"
