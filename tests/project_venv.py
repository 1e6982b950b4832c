"""One virtualenv, shared by every baked project, holding the generated project's dependencies.

Installing each combination of answers into its own venv would cost minutes per bake. The
combinations share their dependencies, so the venv holds those (not the project itself): a
baked project runs with `PYTHONPATH=src` from its own directory, so `import app` finds that
combination's code. The venv lives in `.cache/bake-venv` (gitignored) and is reused by the
next run; a stamp file records what was installed, so only new requirements are installed.

The requirements are the baked project's uv.lock (`uv export`), so the bakes test exactly what a
fresh machine installs; every combination locks the same versions (scripts/lock.py), so one venv
holds them all. `make test-newest` sets TEMPLATE_TESTS_NEWEST=1: the requirements are then the
pyproject ranges, resolved to the newest releases into `.cache/bake-venv-newest`.
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

from scripts.lock import uv_executable
from tests.bake import ROOT, run

NEWEST = os.environ.get("TEMPLATE_TESTS_NEWEST") == "1"
SOURCE = "ranges" if NEWEST else "uv.lock"
VENV = ROOT / ".cache" / ("bake-venv-newest" if NEWEST else "bake-venv")
STAMP = VENV / "template-tests.json"
# Variables of the caller that would leak into a baked project's settings or interpreter.
SCRUBBED = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"}


def project_requirements(project: Path) -> list[str]:
    """A baked project's dependencies with the `dev` extra: its locked versions, or its ranges when NEWEST.

    A locked requirement is one line: `name==version ; marker --hash=sha256:...`.
    """
    if NEWEST:
        return _ranges(project)
    export = ["export", "--frozen", "--extra", "dev", "--no-emit-project", "--no-header", "--no-annotate"]
    exported = run([uv_executable(), *export, "--quiet"], cwd=project)
    return [" ".join(line.split()) for line in exported.replace("\\\n", " ").splitlines() if line.strip()]


def _ranges(project: Path) -> list[str]:
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
    """Return the shared venv with `requirements` installed, creating or extending it.

    Locked requirements (with hashes) are installed from a requirements file, which uv checks
    against the hashes; others, such as a benchmark's extra server, by name.
    """
    python_id = f"{sys.implementation.name}-{sys.version}"
    with _locked():
        stamp = json.loads(STAMP.read_text("utf-8")) if STAMP.exists() else {}
        current = (stamp.get("python"), stamp.get("source")) == (python_id, SOURCE)
        if not current or not (VENV / "bin" / "python").exists():
            shutil.rmtree(VENV, ignore_errors=True)
            run([sys.executable, "-m", "venv", str(VENV)], cwd=ROOT, timeout=300)
            stamp = {"python": python_id, "source": SOURCE, "installed": []}
        missing = sorted(set(requirements) - set(stamp["installed"]))
        if missing:
            # Compiled at install: the bakes' many short processes import from .pyc, not from source.
            python = str(VENV / "bin" / "python")
            install = [uv_executable(), "pip", "install", "--compile-bytecode", "--python", python]
            locked = [r for r in requirements if "--hash=" in r]
            if any("--hash=" in r for r in missing):
                (VENV / "requirements.txt").write_text("\n".join(locked) + "\n", "utf-8")
                run([*install, "-r", str(VENV / "requirements.txt")], cwd=ROOT, timeout=1200)
            if by_name := [r for r in missing if "--hash=" not in r]:
                run([*install, *by_name], cwd=ROOT, timeout=1200)
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
