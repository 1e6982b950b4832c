"""cookiecutter.json and copier.yml ask the same questions, in the same order, with the same defaults."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from tests.bake import MANIFEST, QUESTIONS, ROOT, TOGGLES, is_derived, question_names, run

COPIER: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text("utf-8"))


def copier_questions() -> dict[str, dict[str, Any]]:
    """copier.yml's questions, in order, without settings (`_x`) and hidden computed values."""
    return {
        name: spec
        for name, spec in COPIER.items()
        if not name.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
    }


def test_same_questions_in_same_order() -> None:
    assert list(copier_questions()) == question_names()


def test_same_prompts() -> None:
    prompts = QUESTIONS.get("__prompts__", {})
    assert sorted(prompts) == sorted(question_names()), "every question needs a prompt in __prompts__"
    for name, spec in copier_questions().items():
        assert spec.get("help") == prompts[name], name


@pytest.mark.parametrize("name", question_names())
def test_same_default_and_choices(name: str) -> None:
    cookiecutter_default = QUESTIONS[name]
    spec = copier_questions()[name]
    if isinstance(cookiecutter_default, bool):
        assert spec["type"] == "bool"
        assert spec["default"] is cookiecutter_default
    elif isinstance(cookiecutter_default, list):
        assert spec.get("choices") == cookiecutter_default
        assert spec["default"] == cookiecutter_default[0], "cookiecutter's default is the first choice"
    elif is_derived(cookiecutter_default):
        assert is_derived(spec["default"]), "computed in cookiecutter.json, so computed in copier.yml"
    else:
        assert spec["default"] == cookiecutter_default


def test_every_toggle_is_a_boolean_question() -> None:
    assert TOGGLES, "features.toml names no feature"
    for name, feature in MANIFEST.items():
        toggle = feature["toggle"]
        assert isinstance(QUESTIONS.get(toggle), bool), (
            f"{name}: {toggle} is not a boolean in cookiecutter.json"
        )
        assert copier_questions().get(toggle, {}).get("type") == "bool", f"{name}: {toggle} in copier.yml"
        assert feature["paths"], f"{name}: no paths to prune"


def test_copier_yml_is_in_sync() -> None:
    run([sys.executable, "hooks/sync_copier.py", "--check"], cwd=ROOT)


def _cookiecutter_answers(template: Path, data: dict[str, Any]) -> dict[str, Any]:
    context = generate_context(str(template / "cookiecutter.json"), extra_context=data)
    answers = prompt_for_config(context, no_input=True)
    return {name: answers[name] for name in question_names()}


def _copier_answers(template: Path, data: dict[str, Any], dst: Path) -> dict[str, Any]:
    worker = copier.run_copy(
        str(template),
        dst,
        data=data,
        defaults=True,
        pretend=True,
        skip_tasks=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return {name: worker.answers.combined[name] for name in question_names()}


@pytest.mark.parametrize(
    ("project_name", "slug"),
    [
        ("My App", "my_app"),
        ('Zoë\'s Café "Beta"', "zoes_cafe_beta"),
        ("  Spaces  and--dashes  ", "spaces_and_dashes"),
        ("Ærø Straße 2", "aero_strasse_2"),
    ],
)
def test_both_tools_compute_the_same_defaults(
    template: Path, tmp_path: Path, project_name: str, slug: str
) -> None:
    """Rendered defaults, including the slug derived from the name, are the same in both tools."""
    data = {"project_name": project_name}
    from_cookiecutter = _cookiecutter_answers(template, data)
    from_copier = _copier_answers(template, data, tmp_path / "pretend")
    assert from_copier == from_cookiecutter
    assert from_cookiecutter["project_slug"] == slug
