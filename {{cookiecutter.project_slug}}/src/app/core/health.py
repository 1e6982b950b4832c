"""Liveness and readiness: /health answers while the process runs, /ready when the database is usable."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text

from app.core.migrations import pending_migrations


@get("/health", sync_to_thread=False, include_in_schema=True, tags=["health"])
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/ready", tags=["health"])
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The database answers and every migration is applied (503 otherwise)."""
    engine = request.app.state.db.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            pending = await conn.run_sync(pending_migrations)
    except Exception:  # any failure to reach the database means "not ready"
        return Response({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if pending:
        return Response({"status": "unavailable", "database": "ok", "pending_migrations": pending}, status_code=503)
    return Response({"status": "ok", "database": "ok", "pending_migrations": []})
