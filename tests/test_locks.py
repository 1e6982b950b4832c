"""The generated project's uv.lock: current for every combination of answers; one uv everywhere."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from scripts.lock import LOCK_TEMPLATE, PROJECT, answers_for, dimensions, render, uv_executable
from tests.bake import ROOT


def test_lock_template_is_current_for_every_combination() -> None:
    """`uv lock --check` passes offline for each combination's rendered lock; `make lock` writes the same."""
    completed = subprocess.run(
        [sys.executable, "-m", "scripts.lock", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-8000:]


@pytest.mark.parametrize("slug", ["a", "my_app", "pyjwt_tools", "zz_top"])
def test_the_project_sits_among_the_packages_in_name_order(slug: str) -> None:
    """uv sorts the packages by name, so the project's entry moves with its name."""
    dims = dimensions()
    first, last = (tuple(options[i] for options in dims.values()) for i in (0, -1))
    for combo in (first, last):
        lock = render(LOCK_TEMPLATE, answers_for(dims, combo) | {"project_slug": slug})
        names = re.findall(r'^\[\[package\]\]\nname = "([^"]+)"', lock, re.MULTILINE)
        assert names == sorted(names)
        assert names.count(slug.replace("_", "-")) == 1


def test_uv_is_pinned_alike() -> None:
    """The template's Makefile, the project's Makefile and its Dockerfile install the uv that locked."""
    pattern = re.compile(r"^UV_VERSION := (\S+)$", re.MULTILINE)
    (template_pin,) = pattern.findall((ROOT / "Makefile").read_text("utf-8"))
    (project_pin,) = pattern.findall((PROJECT / "Makefile").read_text("utf-8"))
    assert project_pin == template_pin
    assert f"pip install uv=={template_pin}\n" in (PROJECT / "Dockerfile.jinja").read_text("utf-8")
    version = subprocess.run([uv_executable(), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.split()[1] == template_pin, "run the tests with the pinned uv (make test does)"
