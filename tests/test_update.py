"""`copier update` on a generated project: enabling a feature later adds it, keeps what was there."""

from __future__ import annotations

import subprocess
from pathlib import Path

import copier
import yaml

from tests.bake import GIT, env_values


def _git(project: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=project, check=True, capture_output=True)


def test_enabling_magic_link_later_with_copier_update(template: Path, tmp_path: Path) -> None:
    project = tmp_path / "my_app"
    copier.run_copy(
        str(template),
        project,
        data={"use_magic_link": False},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    assert not (project / "src/app/features/magic_link").exists()
    secret = env_values(project / ".env")["SECRET_KEY"]
    (project / "src/app/hooks.py").write_text(
        (project / "src/app/hooks.py").read_text("utf-8") + "\n# a change the team made\n", "utf-8"
    )
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "--no-verify", "-m", "generated")):
        _git(project, *args)

    copier.run_update(
        str(project),
        data={"use_magic_link": True},
        defaults=True,
        unsafe=True,
        overwrite=True,
        vcs_ref="HEAD",
        quiet=True,
    )

    assert (project / "src/app/features/magic_link/__init__.py").exists()
    assert "MAGIC_LINK" in (project / "src/app/features/__init__.py").read_text("utf-8")
    assert "MAGIC_LINK_TTL" in (project / ".env.example").read_text("utf-8")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert answers["use_magic_link"] is True
    assert "# a change the team made" in (project / "src/app/hooks.py").read_text("utf-8")
    assert env_values(project / ".env")["SECRET_KEY"] == secret  # the existing .env is kept
    assert not list(project.rglob("*.rej")), "copier left conflicts"
