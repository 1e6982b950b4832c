"""A Jinja extension cookiecutter loads (see `_extensions` in cookiecutter.json) for the hooks.

- `template_root`: the absolute path of this template, so the hooks find `features.toml` and
  `hooks/rules.py` even when cookiecutter was given a relative path (its `_repo_dir` is then
  relative to a directory the hooks no longer run in).
- Quiet hook failures: when pre_gen_project.py refuses an answer it prints one sentence and
  exits 1; cookiecutter 2.7 then logs its own traceback of that exit, which says nothing more.
  The filter keeps cookiecutter's message and drops the traceback.

Copier never loads this: it validates with copier.yml's validators and has no hooks.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


class _DropHookTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if "hook script didn't exit successfully" in record.getMessage():
            record.exc_info = None
            record.exc_text = None
        return True


class TemplateExtension(Extension):
    """Adds `template_root` and quiets cookiecutter's traceback on a refused answer."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["template_root"] = str(TEMPLATE_ROOT)
        hooks_logger = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(f, _DropHookTraceback) for f in hooks_logger.filters):
            hooks_logger.addFilter(_DropHookTraceback())
