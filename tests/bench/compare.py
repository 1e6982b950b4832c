"""`make bench-compare`: the generated app beside bare Litestar and Better Auth, over HTTP, in one run.

Bakes the default project with every feature on, serves it with uvicorn and with granian (one
worker each, pinned to core 0), serves bench/bare.py of that project the same way, and Better
Auth (tests/bench/better_auth, from npm) on Node; wrk loads one server at a time from core 1. Data
volume is the same everywhere: 1,000 users and 10,000 sessions. Rounds rotate the order of the
servers; each ratio is computed within a round and shown as median (min-max). Then the
project's in-process benchmarks give sign-in vs Argon2id and 10k vs 1M sessions (SQLite and
PostgreSQL).

    python tests/bench/compare.py [--smoke] [--rounds 3] [--duration 5] [--no-postgresql]

Needs Node.js 20+ with npm, PostgreSQL at --postgres-url (or --no-postgresql), wrk and taskset
(without wrk a Python stand-in runs so that the harness is still exercised: its figures mean little).
Figures are printed, never judged: nothing here fails because something was slow.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from tests.bake import bake_cookiecutter, snapshot_template, write_cookiecutter_config  # noqa: E402
from tests.bench.compare_tables import print_ratios, print_runs  # noqa: E402
from tests.project_venv import VENV, ensure_venv, project_environment, project_requirements  # noqa: E402

WORK = ROOT / ".cache" / "bench-compare"
BETTER_AUTH = HERE / "better_auth"
STAMP = BETTER_AUTH / "node_modules" / ".bench-lock.sha256"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
GET_SESSION = "/api/auth/get-session"


def status(message: str) -> None:
    sys.stderr.write(f"bench-compare: {message}\n")
    sys.stderr.flush()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tests/bench/compare.py", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="one short round: proves the harness works")
    parser.add_argument("--rounds", type=int, default=None, help="rounds in rotating order (default 3)")
    parser.add_argument(
        "--duration", type=int, default=None, help="seconds of wrk per measurement (default 5)"
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--users", type=int, default=None, help="users in each database (default 1000)")
    parser.add_argument(
        "--sessions", type=int, default=None, help="sessions in each database (default 10,000)"
    )
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--no-postgresql", action="store_true", help="skip every PostgreSQL measurement")
    parser.add_argument(
        "--no-better-auth",
        action="store_true",
        help="skip Better Auth (no npm install); the CI smoke run does when it is not installed yet",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="measure this generated project (e.g. one with a hot-path change) instead of a fresh bake",
    )
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    args.duration = args.duration or (1 if args.smoke else 5)
    args.users = args.users or (100 if args.smoke else 1000)  # a smoke run proves the paths, not the scale
    args.sessions = args.sessions or (1000 if args.smoke else 10_000)
    return args


def require_tools() -> dict[str, str]:
    found = {name: shutil.which(name) for name in ("node", "npm")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        needed = ", ".join(missing)
        sys.exit(f"bench-compare needs {needed}: apt-get install nodejs npm (Debian), brew install node")
    if shutil.which("wrk") is None:
        status("wrk is not installed (apt-get install wrk): a Python stand-in loads the servers")
        status("its figures are NOT comparable; they only prove the harness works")
    return {name: str(path) for name, path in found.items()}


def bake_project() -> Path:
    """The default answers with every optional feature of features.toml switched on."""
    manifest = tomllib.loads((ROOT / "features.toml").read_text("utf-8"))
    answers = {feature["toggle"]: True for feature in manifest.values()}
    template = snapshot_template(WORK / "template")
    config = write_cookiecutter_config(WORK / "cookiecutter-home")
    return bake_cookiecutter(template, WORK / "bake", answers, config)


def _lock_digest() -> str:
    return hashlib.sha256((BETTER_AUTH / "package-lock.json").read_bytes()).hexdigest()


def better_auth_installed() -> bool:
    """True when tests/bench/better_auth/node_modules matches its package-lock.json."""
    return STAMP.exists() and STAMP.read_text("utf-8") == _lock_digest()


def ensure_better_auth(npm: str) -> None:
    """`npm ci` in tests/bench/better_auth unless node_modules already matches package-lock.json."""
    if better_auth_installed():
        return
    lock = _lock_digest()
    status("installing Better Auth from npm (tests/bench/better_auth, once)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BETTER_AUTH, check=True, timeout=900
    )
    STAMP.write_text(lock, "utf-8")


class Project:
    """The baked project run with the shared venv: its bench package, servers and data."""

    def __init__(self, path: Path, venv: Path) -> None:
        self.path = path
        self.python = str(venv / "bin" / "python")
        self.env = project_environment(venv, path)
        self.env["PYTHONPATH"] = f"{path / 'src'}{os.pathsep}{path}"

    def run(self, args: list[str], capture: bool = True, timeout: float = 1800) -> str:
        done = subprocess.run(
            [self.python, *args],
            cwd=self.path,
            env=self.env,
            stdout=subprocess.PIPE if capture else None,
            text=True,
            check=True,
            timeout=timeout,
        )
        return done.stdout or ""

    def prepare(self, url: str, users: int, sessions: int) -> dict[str, Any]:
        out = self.run(
            ["-m", "bench.prepare", "--url", url, "--users", str(users), "--sessions", str(sessions)]
        )
        prepared: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return prepared


def seed_better_auth(node: str, env: dict[str, str], users: int, sessions: int) -> dict[str, Any]:
    """Better Auth's SQLite database with the same volume of users and sessions; its session cookie."""
    seeded = subprocess.run(
        [node, "server.mjs", "seed", str(WORK / "better-auth.db"), str(users), str(sessions)],
        cwd=BETTER_AUTH,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    ba: dict[str, Any] = json.loads(seeded.stdout.strip().splitlines()[-1])
    return ba


def postgres(admin_url: str, statement: str) -> None:
    """One statement as the admin user, through psql-free asyncpg in the project venv."""
    code = (
        "import asyncio, sys, asyncpg\n"
        "async def main():\n"
        "    c = await asyncpg.connect(sys.argv[1])\n"
        "    try:\n"
        "        await c.execute(sys.argv[2])\n"
        "    finally:\n"
        "        await c.close()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([str(VENV / "bin" / "python"), "-c", code, admin_url, statement], check=True, timeout=120)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    tools = require_tools()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    if args.project:
        baked = args.project.resolve()
        status(f"measuring the project in {baked}")
    else:
        status("baking the default project with every feature on")
        baked = bake_project()
    status("project dependencies (+ granian) in the shared venv .cache/bake-venv")
    venv = ensure_venv([*project_requirements(baked), "granian>=2.5,<3"])
    project = Project(baked, venv)
    if not args.no_better_auth:
        ensure_better_auth(tools["npm"])
    sys.path.insert(0, str(baked))
    from tests.bench.compare_lineup import Lineup  # needs the project's bench package on the path

    pg_name = f"bench_compare_{uuid.uuid4().hex[:10]}"
    pg_url = None
    if not args.no_postgresql:
        postgres(args.postgres_url, f'CREATE DATABASE "{pg_name}"')
        pg_url = (
            args.postgres_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            + f"/{pg_name}"
        )
    try:
        status(f"data: {args.users:,} users, {args.sessions:,} sessions in each database")
        sqlite = project.prepare(f"sqlite+aiosqlite:///{WORK / 'app.db'}", args.users, args.sessions)
        pg = project.prepare(pg_url, args.users, args.sessions) if pg_url else None
        ba_env = {**os.environ, "BETTER_AUTH_SECRET": secrets.token_urlsafe(32), "NODE_ENV": "production"}
        ba = (
            None
            if args.no_better_auth
            else seed_better_auth(tools["node"], ba_env, args.users, args.sessions)
        )
        lineup = Lineup(project, WORK, tools["node"], BETTER_AUTH, ba_env, sqlite, pg, ba)
        measurements = lineup.run(args.rounds, args.duration, args.connections)
        print_runs(measurements, args.rounds, args.duration, args.connections)
        print_ratios(measurements)
        status("in-process: sign-in vs Argon2id, 10k vs 1M sessions")
        smoke = ["--smoke"] if args.smoke else []
        project.run(["-m", "bench", *smoke, "--only", "sign-in,scale"], capture=False)
        if pg_url:
            server_url = args.postgres_url.replace("postgresql://", "postgresql+asyncpg://")
            project.run(
                [
                    "-m",
                    "bench",
                    *smoke,
                    "--only",
                    "scale",
                    "--db",
                    "postgresql",
                    "--postgres-url",
                    server_url,
                ],
                capture=False,
            )
    finally:
        if pg_url:
            postgres(args.postgres_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
