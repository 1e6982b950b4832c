"""Alembic configured from the enabled features: each ships its own migrations folder.

`app db upgrade` / `app db check` (and /ready) build the configuration here, so enabling a
feature later adds its migration branch without touching migrations already applied.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

APP_DIR = Path(__file__).resolve().parent.parent


def version_locations() -> list[str]:
    """The core's migrations folder followed by every enabled feature's."""
    from app.features import ENABLED

    folders = [APP_DIR / "auth" / "migrations"]
    folders += [f.migrations_dir for f in ENABLED if f.migrations_dir is not None]
    return [str(folder) for folder in folders]


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic Config for this app (script location in app/migrations)."""
    config = Config()
    config.set_main_option("script_location", str(APP_DIR / "migrations"))
    config.set_main_option("version_locations", " ".join(version_locations()))
    config.set_main_option("path_separator", "space")
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def pending_migrations(connection: Connection) -> list[str]:
    """Head revisions not yet applied on this connection's database."""
    script = ScriptDirectory.from_config(alembic_config())
    current = set(MigrationContext.configure(connection).get_current_heads())
    applied: set[str] = set()
    for head in current:
        applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
    return sorted(rev for rev in script.get_heads() if rev not in applied)
