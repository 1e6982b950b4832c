"""Bake projects from the template with cookiecutter and copier, and compare what they write.

Both tools bake from a *snapshot* of the template: the files git would commit right now
(tracked and untracked, minus what .gitignore ignores), committed in a fresh repository.
That is what a user who clones the template gets, it keeps junk such as `__pycache__` or a
local `.venv` out of the bakes, and it gives both tools the same files even while someone
is editing the work tree.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parent.parent
PROJECT_TEMPLATE = "{{cookiecutter.project_slug}}"
QUESTIONS: dict[str, Any] = json.loads((ROOT / "cookiecutter.json").read_text("utf-8"))
MANIFEST: dict[str, Any] = tomllib.loads((ROOT / "features.toml").read_text("utf-8"))
TOGGLES: list[str] = [feature["toggle"] for feature in MANIFEST.values()]
COPIER_ONLY = ".copier-answers.yml"
OUTPUT_LIMIT = 20_000

GIT = ["git", "-c", "user.name=template-tests", "-c", "user.email=tests@example.invalid"]
GIT += ["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]


def question_names() -> list[str]:
    """The questions of cookiecutter.json, in order (private `_` keys are settings, not questions)."""
    return [name for name in QUESTIONS if not name.startswith("_")]


def is_derived(value: Any) -> bool:
    """True for a default computed from earlier answers by a Jinja expression."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def plain_defaults() -> dict[str, Any]:
    """Default answers that are not computed: first choice of a list, the value otherwise."""
    defaults: dict[str, Any] = {}
    for name in question_names():
        value = QUESTIONS[name]
        if isinstance(value, list):
            defaults[name] = value[0]
        elif not is_derived(value):
            defaults[name] = value
    return defaults


@dataclass(frozen=True)
class Combo:
    """One set of answers to bake; `answers` only holds what differs from the defaults."""

    id: str
    answers: dict[str, Any] = field(default_factory=dict)
    # The project tests this combination runs (paths in the generated project); None is the whole
    # suite. Each feature alone runs its own tests: the core runs in full with every feature off,
    # with the defaults, and with everything on, so repeating it per feature would only cost time.
    suite: tuple[str, ...] | None = None

    @property
    def effective(self) -> dict[str, Any]:
        return plain_defaults() | self.answers

    def enabled(self, toggle: str) -> bool:
        return bool(self.effective[toggle])


def within(path: str, prunable: str) -> bool:
    """True when pruning `prunable` (a file or a folder of the manifest) removes `path`."""
    return path == prunable or path.startswith(prunable + "/")


def tests_of(names: set[str]) -> tuple[str, ...]:
    """The test paths of these features that a bake with only them on keeps.

    A test of two features together (say OAuth beside two-factor) is listed under both, so that
    either one being off prunes it.
    """
    kept: list[str] = []
    for name in names:
        for path in MANIFEST[name]["paths"]:
            owners = {
                other for other, feature in MANIFEST.items() if any(within(path, p) for p in feature["paths"])
            }
            if path.startswith("tests/") and owners <= names and path not in kept:
                kept.append(path)
    return tuple(kept)


def together(combo_id: str, names: list[str]) -> Combo | None:
    """These features on and the others off, running the tests of these features; None if one is missing."""
    if not all(name in MANIFEST for name in names):
        return None
    on = {MANIFEST[name]["toggle"] for name in names}
    return Combo(combo_id, {toggle: toggle in on for toggle in TOGGLES}, suite=tests_of(set(names)))


def combos() -> list[Combo]:
    """Defaults, all features off, each feature alone, all together on PostgreSQL, a name that needs slugging.

    Derived from features.toml, so a new feature is baked alone without touching the tests.
    Combinations that amount to the same answers are baked once.
    """
    candidates = [
        Combo("defaults"),
        Combo("all-off", dict.fromkeys(TOGGLES, False)),
        *(
            Combo(
                f"only-{name}",
                {toggle: toggle == feature["toggle"] for toggle in TOGGLES},
                suite=tests_of({name}),
            )
            for name, feature in MANIFEST.items()
        ),
        # The sign-in factors together (the second-factor gate sees every first factor), on SQLite.
        *(
            [sign_in_factors]
            if (sign_in_factors := together("sign-in-factors", ["magic_link", "passkeys", "two_factor"]))
            else []
        ),
        # Every feature together, on the real services (PostgreSQL, and Redis in the project's tests).
        Combo("postgresql-all-on", {"database": "postgresql", **dict.fromkeys(TOGGLES, True)}),
        # The name shows in pages, metadata and deployment files; the rest is the defaults again.
        Combo(
            "unicode-name",
            {"project_name": 'Zoë\'s Café "Beta"'},
            suite=("tests/test_deploy_files.py", "tests/auth/test_views.py"),
        ),
    ]
    unique: list[Combo] = []
    seen: list[dict[str, Any]] = []
    for combo in candidates:
        if combo.effective not in seen:
            seen.append(combo.effective)
            unique.append(combo)
    return unique


def snapshot_template(dst: Path) -> Path:
    """Copy the template as git would commit it now into a fresh repository at `dst`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if not source.exists() and not source.is_symlink():
            continue  # tracked but deleted in the work tree
        target = dst / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "snapshot"]):
        subprocess.run([*GIT, *command], cwd=dst, check=True, capture_output=True)
    return dst


def write_cookiecutter_config(directory: Path) -> Path:
    """A cookiecutter config that keeps its replay files and clones out of the user's home."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(directory / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(directory / 'replay'))}\n",
        "utf-8",
    )
    return config


def bake_cookiecutter(template: Path, out_dir: Path, answers: Mapping[str, Any], config: Path) -> Path:
    """Generate with cookiecutter's Python API; return the project directory."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = cookiecutter(
        str(template),
        no_input=True,
        extra_context=dict(answers),
        output_dir=str(out_dir),
        config_file=str(config),
    )
    return Path(result)


def bake_copier(template: Path, dst: Path, answers: Mapping[str, Any]) -> Path:
    """Generate with copier's Python API (running its tasks, as `--trust` does); return `dst`."""
    copier.run_copy(
        str(template),
        dst,
        data=dict(answers),
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return dst


def env_keys(path: Path) -> set[str]:
    """Keys assigned in a dotenv file."""
    keys = set()
    for line in path.read_text("utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and "=" in stripped:
            keys.add(stripped.split("=", 1)[0].removeprefix("export ").strip())
    return keys


def env_values(path: Path) -> dict[str, str]:
    """Key to value of a dotenv file (no quoting rules: the values we write are plain)."""
    values = {}
    for line in path.read_text("utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and "=" in stripped:
            key, value = stripped.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def _describe(root: Path, ignore: frozenset[str]) -> dict[str, tuple[str, object, bool]]:
    """Relative path -> (kind, content, executable) for every entry under `root`."""
    entries: dict[str, tuple[str, object, bool]] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if relative in ignore:
            continue
        if path.is_symlink():
            entries[relative] = ("symlink", str(path.readlink()), False)
        elif path.is_dir():
            entries[relative] = ("dir", None, False)
        else:
            executable = bool(path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
            # Secrets differ between bakes by design: compare which settings .env holds.
            content: object = sorted(env_keys(path)) if relative == ".env" else path.read_bytes()
            entries[relative] = ("file", content, executable)
    return entries


def tree_diff(cookiecutter_tree: Path, copier_tree: Path) -> list[str]:
    """Differences between the two tools' output: paths, bytes, executable bits; empty when identical.

    `.copier-answers.yml` is copier's own record and is ignored on copier's side only: the
    cookiecutter hook must delete it. `.env` is compared by its keys, since secrets differ.
    """
    left = _describe(cookiecutter_tree, frozenset())
    right = _describe(copier_tree, frozenset({COPIER_ONLY}))
    problems: list[str] = []
    for relative in sorted(left.keys() | right.keys()):
        if relative not in right:
            problems.append(f"only in the cookiecutter project: {relative}")
        elif relative not in left:
            problems.append(f"only in the copier project: {relative}")
        else:
            (kind_l, content_l, exec_l), (kind_r, content_r, exec_r) = left[relative], right[relative]
            if kind_l != kind_r:
                problems.append(f"{relative}: a {kind_l} from cookiecutter, a {kind_r} from copier")
            elif content_l != content_r:
                what = "keys" if relative == ".env" else "content"
                problems.append(f"{relative}: {what} differs")
            elif exec_l != exec_r:
                problems.append(
                    f"{relative}: executable bit differs (cookiecutter {exec_l}, copier {exec_r})"
                )
    return problems


def run(command: list[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command; fail with its whole output unless it exits 0. Return the output."""
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        output = completed.stdout
        if len(output) > OUTPUT_LIMIT:  # the end holds the summary of test runners and type checkers
            output = f"[... {len(output) - OUTPUT_LIMIT} characters cut ...]\n{output[-OUTPUT_LIMIT:]}"
        raise AssertionError(f"`{' '.join(command)}` exited {completed.returncode} in {cwd}:\n{output}")
    return completed.stdout


def python_cli(module: str) -> list[str]:
    """Run a tool's CLI with the interpreter running the tests (the template's own venv)."""
    return [sys.executable, "-m", module]
