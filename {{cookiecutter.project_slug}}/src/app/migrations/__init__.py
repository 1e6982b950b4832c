"""This app's Alembic set-up: the auth core's version folder, then every enabled feature's.

The script folder (env.py, script.py.mako) is this package's own; `app db ...`, `app check`,
/ready and the tests build their configuration from `FOLDERS`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic.config import Config

from app.core import migrations
from app.features import ENABLED

APP_DIR = Path(__file__).resolve().parent.parent
FOLDERS = [APP_DIR / "auth" / "migrations", *(f.migrations for f in ENABLED if f.migrations is not None)]


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic Config for this app's migrations, on `database_url` when given."""
    return migrations.alembic_config(FOLDERS, database_url)


def import_all_models() -> None:
    """Import every table so SQLModel.metadata is complete (autogenerate and `alembic check`):
    the core's, then each enabled feature's `models` module if it has one."""
    import app.auth.models
    import app.core.audit  # noqa: F401

    for feature in ENABLED:
        module = f"app.features.{feature.name}.models"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
