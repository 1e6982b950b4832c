"""A bare Litestar app: one JSON endpoint, no middleware. The yardstick every figure is divided by.

Served by the HTTP mode (`uvicorn bench.bare:app`) and called in-process by `make bench`.
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    """The same shape of answer as the app's /health."""
    return {"status": "ok"}


app = Litestar(route_handlers=[hello])
