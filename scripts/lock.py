"""Lock the generated project's dependencies for every combination of answers: `uv.lock.jinja`.

A generated project ships the uv.lock that `uv lock` would write for it. What uv locks depends on the
answers that change pyproject.toml's dependencies (found here by rendering pyproject.toml.jinja, so a
new toggle with packages of its own is picked up by itself) and on `python_version`, since uv prunes
wheels and markers by `requires-python`. This script renders pyproject.toml for each combination of those
answers, runs `uv lock` in each, and merges the locks into one template (scripts/lock_template.py).

    python -m scripts.lock            keep the locked versions, add what pyproject.toml newly asks for
    python -m scripts.lock --upgrade  the newest versions the ranges allow
    python -m scripts.lock --check    each combination's rendered lock passes `uv lock --check` (offline),
                                      and the template is what this script makes of them

Every combination gets the same versions: the one with every feature on is locked first (from the
current template, unless upgrading) and its lock seeds the others, since uv keeps the versions of the
lock it finds. uv is the pinned one the Makefile installs (or `UV`); it needs an interpreter of each
`python_version` even to lock, found on PATH or in pyenv (`find_python`).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jinja2

from scripts.lock_template import Combination, build

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hooks"))

from sync_copier import CHOICES  # noqa: E402

PROJECT = ROOT / "{{cookiecutter.project_slug}}"
LOCK_TEMPLATE = PROJECT / "uv.lock.jinja"
WORK = ROOT / ".cache" / "lock"
SLUG = "my_app"  # the project's name while locking; the template puts each project's own in its place
PACKAGE_NAME = SLUG.replace("_", "-")  # the project's name in the lock, as uv writes it
Answers = dict[str, Any]


def environment() -> jinja2.Environment:
    """Jinja as both tools set it up: the trailing newline kept, no escaping (this is TOML, not HTML)."""
    return jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)  # noqa: S701


@functools.cache
def _compiled(template: Path, modified: int) -> jinja2.Template:
    return environment().from_string(template.read_text("utf-8"))


def render(template: Path, answers: Answers) -> str:
    """A `.jinja` file of the project rendered as both tools do (trailing newline kept, strict)."""
    return _compiled(template, template.stat().st_mtime_ns).render(cookiecutter=answers)


def default_answers() -> Answers:
    questions: dict[str, Any] = json.loads((ROOT / "cookiecutter.json").read_text("utf-8"))
    answers = {name: value for name, value in questions.items() if not name.startswith("_")}
    return answers | {"project_slug": SLUG}


def _lock_inputs(answers: Answers) -> tuple[Any, ...]:
    """What `uv lock` reads from pyproject.toml, but the project's name."""
    pyproject = tomllib.loads(render(PROJECT / "pyproject.toml.jinja", answers))
    project = pyproject["project"]
    return (
        project.get("requires-python"),
        project.get("dependencies"),
        project.get("optional-dependencies"),
        pyproject.get("dependency-groups"),
        pyproject.get("tool", {}).get("uv"),
    )


def dimensions() -> dict[str, list[Any]]:
    """The questions whose answer changes what uv locks, each with its possible answers."""
    defaults = default_answers()
    reference = _lock_inputs(defaults)
    found: dict[str, list[Any]] = {}
    for name, default in defaults.items():
        options = [True, False] if isinstance(default, bool) else list(CHOICES.get(name, ()))
        if any(_lock_inputs(defaults | {name: option}) != reference for option in options):
            found[name] = options
    return found


def answers_for(dims: dict[str, list[Any]], combo: Combination) -> Answers:
    return default_answers() | dict(zip(dims, combo, strict=True))


def combo_id(dims: dict[str, list[Any]], combo: Combination) -> str:
    """`3.11-jwt-oauth`: the answers that are not a plain no."""
    parts = [
        name.removeprefix("use_") if value is True else str(value)
        for name, value in zip(dims, combo, strict=True)
        if value is not False
    ]
    return "-".join(parts)


def uv_executable() -> str:
    """The uv the Makefile pins (`UV`, else its copy in .cache/uv), else the one on PATH."""
    bootstrapped = ROOT / ".cache" / "uv" / "bin" / "uv"
    found = os.environ.get("UV") or (str(bootstrapped) if bootstrapped.exists() else shutil.which("uv"))
    resolved = shutil.which(found) if found else None
    if not resolved:
        raise SystemExit("uv not found: `make lock` installs the pinned one into .cache/uv")
    return str(Path(resolved).resolve())


@functools.cache
def find_python(version: str) -> str:
    """An interpreter of `version` (`3.13`), which uv needs to lock for `requires-python >= 3.13`.

    Tried: `python3.13` on PATH (pyenv's shims exist for versions that are not enabled, and fail),
    then pyenv's installs. Without one, the version itself, which uv finds or downloads.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}")]
    candidates += [str(p) for p in sorted(pyenv.glob(f"versions/{version}.*/bin/python{version}"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return version


def uv(args: Sequence[str], cwd: Path) -> str:
    """Run uv; fail with its output unless it exits 0. Return what it printed."""
    completed = subprocess.run([uv_executable(), *args], cwd=cwd, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"`uv {' '.join(args)}` failed in {cwd}:\n{completed.stdout}{completed.stderr}")
    return completed.stderr + completed.stdout


def prepare(directory: Path, answers: Answers, lock: str | None) -> Path:
    """A directory holding the project's pyproject.toml for `answers`, and `lock` as its uv.lock."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(render(PROJECT / "pyproject.toml.jinja", answers), "utf-8")
    if lock is not None:
        (directory / "uv.lock").write_text(lock, "utf-8")
    return directory


def lock_all(dims: dict[str, list[Any]], combos: list[Combination], upgrade: bool) -> list[str]:
    """The uv.lock of each combination, all with the versions of the one with every feature on."""
    full = tuple(True if options == [True, False] else options[0] for options in dims.values())
    answers = answers_for(dims, full)
    current = render(LOCK_TEMPLATE, answers) if LOCK_TEMPLATE.exists() and not upgrade else None
    directory = prepare(WORK / combo_id(dims, full), answers, current)
    python = ["--python", find_python(answers["python_version"])]
    print(uv(["lock", *python, *(["--upgrade"] if upgrade else [])], directory).strip())
    # uv lists its forks (`resolution-markers`) in another order when it starts from a lock than from
    # nothing, as the others do: resolve the seed once more from itself, which naming the project forces.
    uv(["lock", *python, "--upgrade-package", PACKAGE_NAME], directory)
    seed = (directory / "uv.lock").read_text("utf-8")

    def lock(combo: Combination) -> str:
        if combo == full:
            return seed
        answers = answers_for(dims, combo)
        directory = prepare(WORK / combo_id(dims, combo), answers, seed)
        uv(["lock", "--python", find_python(answers["python_version"])], directory)
        return (directory / "uv.lock").read_text("utf-8")

    with ThreadPoolExecutor() as pool:
        return list(pool.map(lock, combos))


def _stale(directory: Path, answers: Answers, lock: str) -> str | None:
    """What uv says against `lock` for the pyproject.toml of `answers`; None when it is current."""
    prepare(directory, answers, lock)
    try:
        uv(["lock", "--check", "--offline", "--python", find_python(answers["python_version"])], directory)
    except SystemExit as failure:
        return str(failure)
    return None


def check(dims: dict[str, list[Any]], combos: list[Combination]) -> list[str]:
    """Problems with the template: a combination uv finds stale, or a text this script would not write."""
    answers = [answers_for(dims, combo) for combo in combos]
    rendered = [render(LOCK_TEMPLATE, each) for each in answers]
    with tempfile.TemporaryDirectory(prefix="lock-check-") as temporary, ThreadPoolExecutor() as pool:
        directories = [Path(temporary) / combo_id(dims, combo) for combo in combos]
        problems = [problem for problem in pool.map(_stale, directories, answers, rendered) if problem]
    if not problems and build(rendered, PACKAGE_NAME, dims, combos) != LOCK_TEMPLATE.read_text("utf-8"):
        problems.append("uv.lock.jinja is not what scripts/lock.py makes of the locks it renders")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--upgrade", action="store_true", help="lock the newest versions the ranges allow")
    mode.add_argument("--check", action="store_true", help="fail when uv.lock.jinja is stale")
    options = parser.parse_args(argv)
    dims = dimensions()
    combos = list(itertools.product(*dims.values()))
    if options.check:
        problems = check(dims, combos)
        for problem in problems[:2]:
            print(problem, file=sys.stderr)
        if problems:
            print(f"uv.lock.jinja is stale ({len(problems)} problems): run `make lock`.", file=sys.stderr)
        return 1 if problems else 0
    locks = lock_all(dims, combos, options.upgrade)
    text = build(locks, PACKAGE_NAME, dims, combos)
    template = environment().from_string(text)
    for combo, lock in zip(combos, locks, strict=True):  # the template must give back what uv wrote
        if template.render(cookiecutter=answers_for(dims, combo)) != lock:
            raise SystemExit(f"bug: uv.lock.jinja does not render the lock of {combo_id(dims, combo)}")
    LOCK_TEMPLATE.write_text(text, "utf-8")
    distinct = len({line for lock in locks for line in lock.splitlines()})
    print(
        f"{LOCK_TEMPLATE.relative_to(ROOT)}: {len(combos)} combinations of {', '.join(dims)}; "
        f"{len(text.splitlines())} lines for {distinct} distinct lines of lock"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
