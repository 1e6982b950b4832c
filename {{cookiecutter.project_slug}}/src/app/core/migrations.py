"""Alembic configured from several version folders: the auth core's and one per enabled feature.

The app gives the folders (app.migrations); `app db upgrade` / `app db check` and /ready build
the configuration here, so enabling a feature later adds its migration branch without touching
migrations already applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

APP_DIR = Path(__file__).resolve().parent.parent


def alembic_config(folders: Sequence[Path | str], database_url: str | None = None) -> Config:
    """An Alembic Config for these version folders (script location in app/migrations)."""
    config = Config()
    config.set_main_option("script_location", str(APP_DIR / "migrations"))
    config.set_main_option("version_locations", " ".join(str(folder) for folder in folders))
    config.set_main_option("path_separator", "space")
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def pending_migrations(connection: Connection, folders: Sequence[Path | str]) -> list[str]:
    """Head revisions (of these version folders) not yet applied on this connection's database."""
    script = ScriptDirectory.from_config(alembic_config(folders))
    current = set(MigrationContext.configure(connection).get_current_heads())
    applied: set[str] = set()
    for head in current:
        applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
    return sorted(rev for rev in script.get_heads() if rev not in applied)
