"""Run the `app` command line as an operator would, in this process or in a new one.

In this process (`run_app`), `app.cli.main` runs with the given arguments, environment and
standard input, its output captured: a command costs what it does, not the seconds a new
interpreter spends importing the app. An error the command does not turn into a clean exit
is raised in the test. `run_app_process` starts `python -m app` for what only a real process
shows (its exit status and stderr when the settings are broken before anything is imported).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from app.cli import main

PROJECT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Completed:
    """What a run of the command line left: its exit status and output."""

    returncode: int
    stdout: str
    stderr: str


def run_app(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Completed:
    """`app <args>` in this process, with `env` added to the environment. Call it outside an
    event loop (a sync test, or `anyio.to_thread`): the commands run their own."""
    runner = CliRunner()
    with runner.isolation(input=stdin, env={"LITESTAR_APP": "app.asgi:create_app", **(env or {})}) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            if isinstance(exit_.code, str):
                sys.stderr.write(exit_.code + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
        return Completed(code, out.getvalue().decode(), err.getvalue().decode())


def run_app_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m app <args>` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src"), **(env or {})},
        timeout=120,
        check=False,
    )
