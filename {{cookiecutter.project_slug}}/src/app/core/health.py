"""Liveness and readiness.

`/health` answers while the process runs. `/ready` asks every dependency and names each one:
the database and its migrations are required (503 while one is not ok: a load balancer should
send requests elsewhere); Redis, when REDIS_URL is set, is not, since the app keeps serving
without it (app.core.stores): while it is away the answer stays 200 with status "degraded".
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from app.core.migrations import pending_migrations
from app.core.ratelimit import RATE_LIMIT_STORE
from app.core.stores import REDIS_DOWN, SharedStore, redis_client

OK, UNAVAILABLE = "ok", "unavailable"


@get("/health", sync_to_thread=False, include_in_schema=True, tags=["health"])
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


NOT_READY = ResponseSpec(
    dict[str, Any], generate_examples=False, description="Not ready: the database or its migrations are not ok"
)


@get("/ready", tags=["health"], responses={503: NOT_READY})
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Each dependency's state; 503 while the database or its migrations are not ok."""
    body: dict[str, Any] = {"status": OK, "database": OK, "migrations": OK, "pending_migrations": []}
    try:
        async with request.app.state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            pending = await conn.run_sync(pending_migrations, request.app.state.migrations)
    except Exception:  # any failure to reach the database means "not ready"
        body |= {"status": UNAVAILABLE, "database": UNAVAILABLE, "migrations": "unknown"}
    else:
        if pending:
            body |= {"status": UNAVAILABLE, "migrations": "pending", "pending_migrations": pending}
    store = request.app.stores.get(RATE_LIMIT_STORE)
    if isinstance(store, SharedStore):
        try:
            await redis_client(store).ping()
        except REDIS_DOWN:
            body["redis"] = UNAVAILABLE
            if body["status"] == OK:
                body["status"] = "degraded"
        else:
            body["redis"] = OK
    return Response(body, status_code=503 if body["status"] == UNAVAILABLE else 200)
