"""Alembic environment: the metadata of every model (core and enabled features), sync or async URL."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from app.core.db import UTCDateTime
from app.migrations import import_all_models
from app.settings import DatabaseSettings

import_all_models()
target_metadata = SQLModel.metadata
config = context.config


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or DatabaseSettings().url


def _render_item(kind: str, obj: Any, autogen: Any) -> str | Literal[False]:
    """Render our column types so generated migrations import nothing from SQLModel internals."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        autogen.imports.add("from app.core.db import UTCDateTime")
        return "UTCDateTime()"
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Emit SQL without a database connection (`--sql`)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    """Run migrations over the app's async driver."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
