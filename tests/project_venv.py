"""One virtualenv, shared by every baked project, holding the generated project's dependencies.

Installing each combination of answers into its own venv would cost minutes per bake. The
combinations share their dependencies, so the venv holds those (not the project itself): a
baked project runs with `PYTHONPATH=src` from its own directory, so `import app` finds that
combination's code. The venv lives in `.cache/bake-venv` (gitignored) and is reused by the
next run; a stamp file records what was installed, so only new requirements are installed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bake import ROOT, run

VENV = ROOT / ".cache" / "bake-venv"
STAMP = VENV / "template-tests.json"
# Variables of the caller that would leak into a baked project's settings or interpreter.
SCRUBBED = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"}


def project_requirements(project: Path) -> list[str]:
    """`[project] dependencies` plus the `dev` extra of a baked project's pyproject.toml."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    meta = pyproject["project"]
    own_name = meta["name"].lower().replace("-", "_")
    requirements = [*meta.get("dependencies", []), *meta.get("optional-dependencies", {}).get("dev", [])]
    # A self-reference such as `my_app[extra]` would install the project; its code comes from src/.
    return [r for r in requirements if not r.lower().replace("-", "_").startswith(own_name)]


@contextmanager
def _locked() -> Iterator[None]:
    """Serialise venv changes between pytest-xdist workers and concurrent runs."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with (VENV.parent / "bake-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_venv(requirements: list[str]) -> Path:
    """Return the shared venv with `requirements` installed, creating or extending it."""
    python_id = f"{sys.implementation.name}-{sys.version}"
    with _locked():
        stamp = json.loads(STAMP.read_text("utf-8")) if STAMP.exists() else {}
        if stamp.get("python") != python_id or not (VENV / "bin" / "python").exists():
            shutil.rmtree(VENV, ignore_errors=True)
            run([sys.executable, "-m", "venv", str(VENV)], cwd=ROOT, timeout=300)
            stamp = {"python": python_id, "installed": []}
        missing = sorted(set(requirements) - set(stamp["installed"]))
        if missing:
            run(
                [
                    str(VENV / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    *missing,
                ],
                cwd=ROOT,
                timeout=1200,
            )
            stamp["installed"] = sorted(set(stamp["installed"]) | set(missing))
            STAMP.write_text(json.dumps(stamp, indent=2), "utf-8")
    return VENV


def project_environment(venv: Path, project: Path, **extra: str) -> dict[str, str]:
    """Environment to run a baked project's tools: the shared venv first, its own src/ on the path."""
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(project / "src")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_in_project(venv: Path, project: Path, args: list[str], timeout: float = 900, **extra_env: str) -> str:
    """Run `python <args>` with the shared venv in a baked project; fail with the output unless 0."""
    return run(
        [str(venv / "bin" / "python"), *args],
        cwd=project,
        env=project_environment(venv, project, **extra_env),
        timeout=timeout,
    )


POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_sql(venv: Path, statement: str) -> None:
    """Run one statement as the postgres superuser, through the asyncpg the project depends on."""
    code = (
        "import asyncio, sys, asyncpg\n"
        "async def main():\n"
        f"    connection = await asyncpg.connect({POSTGRES_ADMIN_DSN!r})\n"
        "    try:\n"
        "        await connection.execute(sys.argv[1])\n"
        "    finally:\n"
        "        await connection.close()\n"
        "asyncio.run(main())\n"
    )
    run([str(venv / "bin" / "python"), "-c", code, statement], cwd=ROOT, timeout=120)
