"""Shared steps of the API key tests: create a key over the JSON API, age a session, read the tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.auth.models import Session
from app.core.audit import AuditLog
from app.core.db import utcnow
from app.features.api_keys.models import ApiKey
from tests.conftest import BASE_URL, Client


async def create_key(client: Client, name: str = "CI deploy", scopes: list[str] | None = None, **extra: Any) -> Any:
    """Create a key as the client's signed-in user; the JSON answer (with the full key)."""
    body = {"name": name, "scopes": ["read"] if scopes is None else scopes, **extra}
    response = await client.post("/api/auth/api-key/create", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def bot(app: Litestar) -> Client:
    """A client with no cookies and no Origin: a script calling the API with a key."""
    return Client(app=app, base_url=BASE_URL)


async def age_sessions(app: Litestar, minutes: int) -> None:
    """Make every session's last sign-in older, so sensitive actions need re-authentication."""
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
        await db.commit()


async def key_rows(app: Litestar) -> list[ApiKey]:
    async with app.state.db.sessions() as db:
        return list((await db.exec(select(ApiKey))).all())


async def audit_rows(app: Litestar, prefix: str = "api_key.") -> list[AuditLog]:
    async with app.state.db.sessions() as db:
        rows = (await db.exec(select(AuditLog).order_by(AuditLog.created_at))).all()  # type: ignore[arg-type]
    return [row for row in rows if row.event.startswith(prefix)]
