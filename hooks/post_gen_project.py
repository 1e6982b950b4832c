"""Finish a cookiecutter project: prune disabled features, strip `.jinja`, write `.env`.

Copier does the same with `_exclude` (generated from features.toml), its own `.jinja` suffix
handling and a task running the project's `scripts/make_env.py`; a template test proves that
both tools produce identical trees.
"""

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ANSWERS = json.loads({{ cookiecutter | jsonify | tojson }})
PROJECT = Path.cwd()
MANIFEST = tomllib.loads((Path({{ template_root | tojson }}) / "features.toml").read_text("utf-8"))


def prune_disabled_features() -> None:
    """Delete every path that belongs to a feature whose toggle is off."""
    for feature in MANIFEST.values():
        if ANSWERS[feature["toggle"]] is True:
            continue
        for relative in feature["paths"]:
            target = PROJECT / relative
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()


def strip_template_suffix() -> None:
    """Rename `name.ext.jinja` to `name.ext`: only `.jinja` files were rendered."""
    for path in sorted(PROJECT.rglob("*.jinja")):
        path.rename(path.with_name(path.name.removesuffix(".jinja")))


def remove_copier_only_files() -> None:
    """The copier answers file means nothing to a cookiecutter project."""
    (PROJECT / ".copier-answers.yml").unlink(missing_ok=True)


prune_disabled_features()
strip_template_suffix()
remove_copier_only_files()
subprocess.run([sys.executable, str(PROJECT / "scripts" / "make_env.py")], check=True, cwd=PROJECT)
