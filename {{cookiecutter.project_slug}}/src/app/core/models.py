"""Import every table so SQLModel.metadata is complete (Alembic autogenerate and `alembic check`)."""

from __future__ import annotations

import importlib


def import_all_models() -> None:
    """The core tables, then each enabled feature's `models` module if it has one."""
    import app.auth.models
    import app.core.audit  # noqa: F401
    from app.features import ENABLED

    for feature in ENABLED:
        module = f"app.features.{feature.name}.models"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
