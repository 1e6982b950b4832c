"""Session fixtures: a snapshot of the template, baked projects per combination, the shared venv."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bake import Combo, bake_cookiecutter, bake_copier, snapshot_template, write_cookiecutter_config
from tests.project_venv import ensure_venv, project_requirements

# The longest tests, started first (pytest-xdist hands out one test at a time: `make test` passes
# --maxschedchunk 1), so that both workers finish together. The PostgreSQL combination's whole
# project suite alone is a third of the run; last in collection order, it ran on one worker for
# ten minutes after the other had finished.
LONGEST_FIRST = (
    "test_project_tests[postgresql-all-on]",
    "test_sqlite_under_a_crowd",
    "test_postgresql_under_a_crowd",
    "test_project_bench_smoke",
    "test_bench_compare_smoke",
    "test_project_tests[defaults]",
    "test_project_tests[all-off]",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.name, len(rank)))  # stable: the rest keep their order


@dataclass(frozen=True)
class Baked:
    """One combination baked by both tools.

    `work` is a copy of the cookiecutter project for the quality gates, which write caches and
    database files; `cookiecutter` and `copier` stay as the tools left them, for comparison.
    """

    combo: Combo
    cookiecutter: Path
    copier: Path
    work: Path


class Baker:
    """Bakes each combination once per session, on first use; a failure is re-raised for every test."""

    def __init__(self, template: Path, config: Path, base: Path) -> None:
        self.template = template
        self.config = config
        self.base = base
        self._results: dict[str, Baked | Exception] = {}

    def __call__(self, combo: Combo) -> Baked:
        if combo.id not in self._results:
            try:
                self._results[combo.id] = self._bake(combo)
            except Exception as error:  # kept, so that every test of this combination reports it
                self._results[combo.id] = error
        result = self._results[combo.id]
        if isinstance(result, Exception):
            raise AssertionError(f"baking {combo.id!r} ({combo.answers}) failed: {result!r}") from result
        return result

    def _bake(self, combo: Combo) -> Baked:
        where = self.base / combo.id
        made_by_cookiecutter = bake_cookiecutter(
            self.template, where / "cookiecutter", combo.answers, self.config
        )
        made_by_copier = bake_copier(
            self.template, where / "copier" / made_by_cookiecutter.name, combo.answers
        )
        work = where / "work" / made_by_cookiecutter.name
        shutil.copytree(made_by_cookiecutter, work, symlinks=True)
        return Baked(combo, made_by_cookiecutter, made_by_copier, work)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as git would commit it now, in a fresh repository both tools bake from."""
    return snapshot_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cookiecutter_config(tmp_path_factory.mktemp("cookiecutter-home"))


@pytest.fixture(scope="session")
def baker(template: Path, cookiecutter_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Baker:
    return Baker(template, cookiecutter_config, tmp_path_factory.mktemp("bakes"))


@pytest.fixture(scope="session")
def venv_for() -> Callable[[Baked], Path]:
    """The shared venv, with the dependencies of the given baked project installed."""

    def ensure(baked: Baked) -> Path:
        return ensure_venv(project_requirements(baked.work))

    return ensure
