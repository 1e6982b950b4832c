"""Bake combinations of answers and check what the tools write, then the generated project's own gates."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scripts.lock import find_python, uv_executable
from tests.bake import (
    COPIER_ONLY,
    MANIFEST,
    PROJECT_TEMPLATE,
    ROOT,
    Combo,
    combos,
    env_keys,
    env_values,
    run,
    tree_diff,
    within,
)
from tests.conftest import Baked, Baker
from tests.project_venv import postgres_sql, run_in_project

COMBOS = combos()
by_combo = pytest.mark.parametrize("combo", COMBOS, ids=[combo.id for combo in COMBOS])

# Template syntax that must not survive rendering. `${{ }}` is GitHub Actions' own syntax.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|cookiecutter\.(?!json\b)\w|_copier_")
# The app's own Jinja templates (pages, components, mails) legitimately use {{ }} and {% %}.
APP_TEMPLATE_SUFFIXES = {".html", ".jinja2", ".j2"}


def _is_app_template(relative: Path) -> bool:
    return relative.suffix in APP_TEMPLATE_SUFFIXES or "templates" in relative.parts


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_manifest_paths_exist_in_template() -> None:
    """A typo in features.toml would silently prune nothing."""
    project = ROOT / PROJECT_TEMPLATE
    for name, feature in MANIFEST.items():
        for relative in feature["paths"]:
            candidates = [project / relative, project / f"{relative}.jinja"]
            assert any(p.exists() for p in candidates), f"{name}: {relative} is not in the template"
        # Baked alone, a feature runs only its own tests (see Combo.suite): it must have some.
        assert any(path.startswith("tests/") for path in feature["paths"]), f"{name} lists no tests"


@by_combo
def test_no_template_syntax_left(baker: Baker, combo: Combo) -> None:
    project = baker(combo).cookiecutter
    problems = []
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if path.name.endswith(".jinja"):
            problems.append(f"{relative}: still ends in .jinja")
        if "{{" in str(relative) or "{%" in str(relative) or "cookiecutter" in str(relative):
            problems.append(f"{relative}: template syntax in the path")
        if not path.is_file() or path.is_symlink() or _is_app_template(relative):
            continue
        text = _text(path)
        for number, line in enumerate((text or "").splitlines(), start=1):
            if LEFTOVER.search(line):
                problems.append(f"{relative}:{number}: {line.strip()[:120]}")
    assert problems == []


@by_combo
def test_disabled_features_are_pruned(baker: Baker, combo: Combo) -> None:
    baked = baker(combo)
    for project in (baked.cookiecutter, baked.copier):
        for name, feature in MANIFEST.items():
            for relative in feature["paths"]:
                # A path inside another feature's folder (a test of two features together) needs both.
                owners = [f for f in MANIFEST.values() if any(within(relative, path) for path in f["paths"])]
                enabled = all(combo.enabled(owner["toggle"]) for owner in owners)
                assert (project / relative).exists() is enabled, (
                    f"{project.parent.name}: {name} is {'on' if enabled else 'off'} but {relative} "
                    f"{'is missing' if enabled else 'remains'}"
                )


@by_combo
def test_env_holds_fresh_secrets_and_stays_private(baker: Baker, combo: Combo) -> None:
    baked = baker(combo)
    for project in (baked.cookiecutter, baked.copier):
        env = project / ".env"
        assert env.is_file(), f"{project.parent.name} wrote no .env"
        missing = env_keys(env) - env_keys(project / ".env.example")
        assert not missing, f".env.example does not document {sorted(missing)}"
        ignored = {line.strip() for line in (project / ".gitignore").read_text("utf-8").splitlines()}
        assert ignored & {".env", "/.env"}, ".env is not in .gitignore"
    secrets = [
        env_values(project / ".env").get("SECRET_KEY") for project in (baked.cookiecutter, baked.copier)
    ]
    assert all(secrets), "SECRET_KEY is missing or empty"
    assert secrets[0] != secrets[1], "two bakes got the same SECRET_KEY"


@by_combo
def test_cookiecutter_and_copier_write_the_same_tree(baker: Baker, combo: Combo) -> None:
    baked = baker(combo)
    assert tree_diff(baked.cookiecutter, baked.copier) == []
    assert not (baked.cookiecutter / COPIER_ONLY).exists()
    assert (baked.copier / COPIER_ONLY).is_file(), "copier kept no answers: `copier update` needs them"
    answers = yaml.safe_load((baked.copier / COPIER_ONLY).read_text("utf-8"))
    assert "cookiecutter" not in answers, "the computed namespace must not be stored as an answer"
    for name, value in combo.answers.items():
        assert answers[name] == value


@by_combo
def test_lock_is_current(baker: Baker, combo: Combo) -> None:
    """The project's uv.lock is what uv would write for its pyproject.toml: `uv lock --check`, offline."""
    project = baker(combo).work
    python = find_python(combo.effective["python_version"])
    run([uv_executable(), "lock", "--check", "--offline", "--python", python], cwd=project)


def test_project_name_is_slugged(baker: Baker) -> None:
    (combo,) = [combo for combo in COMBOS if combo.id == "unicode-name"]
    baked = baker(combo)
    assert baked.cookiecutter.name == "zoes_cafe_beta"
    assert 'name = "zoes_cafe_beta"' in (baked.copier / "pyproject.toml").read_text("utf-8")


# The generated project's quality gates, run per combination in a copy of the cookiecutter bake
# with the shared venv (see tests/project_venv.py).
bake = pytest.mark.bake
VenvFor = Callable[[Baked], Path]


@bake
@by_combo
def test_project_builds(baker: Baker, venv_for: VenvFor, combo: Combo, tmp_path: Path) -> None:
    """What `make install` needs: the project's metadata and package layout are valid."""
    baked = baker(combo)
    wheel = ["-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(tmp_path), "."]
    run_in_project(venv_for(baked), baked.work, wheel)
    assert list(tmp_path.glob("*.whl")), "no wheel built"


@bake
@by_combo
def test_ruff_check(baker: Baker, venv_for: VenvFor, combo: Combo) -> None:
    baked = baker(combo)
    run_in_project(venv_for(baked), baked.work, ["-m", "ruff", "check", "--no-cache", "."])


@bake
@by_combo
def test_ruff_format(baker: Baker, venv_for: VenvFor, combo: Combo) -> None:
    baked = baker(combo)
    run_in_project(venv_for(baked), baked.work, ["-m", "ruff", "format", "--check", "--no-cache", "."])


@bake
@by_combo
def test_mypy_strict(baker: Baker, venv_for: VenvFor, combo: Combo) -> None:
    baked = baker(combo)
    cache = ROOT / ".cache" / "mypy" / combo.id
    run_in_project(venv_for(baked), baked.work, ["-m", "mypy", "--strict", "--cache-dir", str(cache)])


@bake
@by_combo
def test_import_rules(baker: Baker, venv_for: VenvFor, combo: Combo) -> None:
    """`make lint`'s import-linter contracts: core -> auth -> features, no feature imports another."""
    baked = baker(combo)
    lint = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    output = run_in_project(venv_for(baked), baked.work, ["-c", lint, "--no-cache"])
    assert "0 broken" in output, output


# What the optional features are called in code, paths and words; none of it may remain in the
# core, the auth core or the shared templates once they are all off.
FEATURE_WORDS = re.compile(
    r"magic.?link|passkey|webauthn|oauth|openid|organi[sz]ation|two.?factor|totp|api.?key|jwt|jwks",
    re.IGNORECASE,
)
# Better Auth's protocol words for the second step (its clients match on them): the core's own.
FEATURE_WORDS_ALLOWED = ("INVALID_TWO_FACTOR_COOKIE", "twoFactorRedirect", "twoFactorMethods")


@bake
def test_with_every_feature_off_nothing_names_one(baker: Baker) -> None:
    (combo,) = [combo for combo in COMBOS if combo.id == "all-off"]
    app = baker(combo).work / "src" / "app"
    assert not list((app / "features").glob("*/")), "feature folders left in the all-off bake"
    found = []
    for path in sorted(app.rglob("*")):
        if not path.is_file() or path.suffix not in {".py", ".html", ".js", ".css", ".txt", ".mako"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            checked = line
            for allowed in FEATURE_WORDS_ALLOWED:
                checked = checked.replace(allowed, "")
            if FEATURE_WORDS.search(checked):
                found.append(f"{path.relative_to(app)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


@bake
@by_combo
def test_project_tests(baker: Baker, venv_for: VenvFor, combo: Combo) -> None:
    baked = baker(combo)
    # The PostgreSQL combination runs the suite on the real services: PostgreSQL, and Redis and
    # PostgreSQL servers of the suite's own for the shared stores and the outages.
    services = ["--db=postgresql"]
    db = services if combo.effective["database"] == "postgresql" else []
    pytest_args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", *db, *(combo.suite or ())]
    run_in_project(venv_for(baked), baked.work, pytest_args, timeout=1200)


@bake
@by_combo
def test_migrations_on_fresh_sqlite(baker: Baker, venv_for: VenvFor, combo: Combo, tmp_path: Path) -> None:
    baked = baker(combo)
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    for command in ("upgrade", "check"):
        run_in_project(venv_for(baked), baked.work, ["-m", "app", "db", command], DATABASE_URL=url)


@bake
@pytest.mark.parametrize(
    "combo",
    [combo for combo in COMBOS if combo.effective["database"] == "postgresql"],
    ids=lambda combo: combo.id,
)
def test_migrations_on_fresh_postgresql(baker: Baker, venv_for: VenvFor, combo: Combo) -> None:
    baked = baker(combo)
    venv = venv_for(baked)
    name = f"template_test_{uuid.uuid4().hex[:12]}"
    postgres_sql(venv, f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        for command in ("upgrade", "check"):
            run_in_project(venv, baked.work, ["-m", "app", "db", command], DATABASE_URL=url)
    finally:
        postgres_sql(venv, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
