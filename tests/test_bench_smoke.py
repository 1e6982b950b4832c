"""Both benchmarks run in smoke mode so that they never rot: they must finish and print their tables.

Nothing here judges a figure: a benchmark that got slower still passes (docs/performance.md says
how to read the figures). `make bench` of a baked project runs in-process and over HTTP (wrk,
installed by .ci/run); the template's `make bench-compare` runs with PostgreSQL like the rest of
the suite, and with Better Auth when tests/bench/better_auth/node_modules is installed (see
test_bench_compare_smoke).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bake import ROOT, bake_cookiecutter
from tests.bench.compare import better_auth_installed
from tests.project_venv import ensure_venv, project_environment, project_requirements

# The same extra as tests/bench/compare.py installs, so the shared venv is extended only once.
GRANIAN = "granian>=2.5,<3"


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert completed.returncode == 0, (
        f"{' '.join(command)} exited {completed.returncode}\n--- stdout\n{completed.stdout[-8000:]}"
        f"\n--- stderr\n{completed.stderr[-8000:]}"
    )
    return completed.stdout


def _assert_rows(output: str, rows: list[str]) -> None:
    missing = [row for row in rows if row not in output]
    assert not missing, f"rows missing from the report: {missing}\n{output}"


def test_project_bench_smoke(template: Path, cookiecutter_config: Path, tmp_path: Path) -> None:
    """`make bench` of the default project: in-process cases, sign-in, table sizes, and HTTP."""
    project = bake_cookiecutter(template, tmp_path / "bake", {}, cookiecutter_config)
    venv = ensure_venv([*project_requirements(project), GRANIAN])
    env = project_environment(venv, project)
    env["PYTHONPATH"] = f"{project / 'src'}:{project}"
    output = _run([str(venv / "bin" / "python"), "-m", "bench", "--smoke", "--http"], project, env)
    _assert_rows(
        output,
        [
            "| bare Litestar endpoint ",
            "| health ",
            "| unauthenticated (full stack) ",
            "| session lookup (DB) ",
            "| session lookup (cookie cache) ",
            "| bearer session token ",
            "| JWT verification ",
            "| API key ",
            "| bare Litestar POST awaiting that verify ",
            "| POST /api/auth/sign-in/email ",
            "| GET /health, 2 sign-ins in flight ",
            "### Session lookup vs table size (sqlite",
            "### HTTP: uvicorn",
            "### HTTP: granian",
        ],
    )


def test_bench_compare_smoke() -> None:
    """`make bench-compare --smoke`: every server answers, every table is printed.

    Better Auth takes part when tests/bench/better_auth/node_modules is installed (by a
    `make bench-compare`): a fresh clone would otherwise spend about two minutes compiling
    better-sqlite3 on every CI run, for a server this smoke run does not judge anyway.
    """
    with_better_auth = better_auth_installed()
    command = [sys.executable, "tests/bench/compare.py", "--smoke"]
    output = _run(command + ([] if with_better_auth else ["--no-better-auth"]), ROOT, timeout=1200)
    rows = [
        "| bare · uvicorn ",
        "| bare · granian ",
        "| app · uvicorn ",
        "| app, cookie cache · granian ",
        "| app, PostgreSQL · uvicorn ",
        "| unauthenticated (full stack) / bare ",
        "| session lookup (DB) / bare ",
        "| session lookup (DB) [PostgreSQL] / bare ",
        "| session lookup (cookie cache) / bare ",
        "| JWT verification / bare ",
        "| API key / bare ",
        "| bare Litestar POST awaiting that verify ",
        "| POST /api/auth/sign-in/email ",
        "### Session lookup vs table size (sqlite",
        "### Session lookup vs table size (postgresql",
    ]
    if with_better_auth:
        rows += [
            "| Better Auth ",
            "| Better Auth, cookie cache ",
            "| Better Auth get-session (cookie cache) ",
            "| session lookup (DB) / Better Auth get-session ",
            "| session lookup (cookie cache) / Better Auth with its cookie cache ",
        ]
    else:
        assert "| Better Auth " not in output
    _assert_rows(output, rows)
