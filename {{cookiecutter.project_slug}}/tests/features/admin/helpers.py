"""Shared steps of the admin console's tests: people with their own browser, admins, aged sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from litestar import Litestar
from sqlalchemy import func, update
from sqlmodel import col, select

from app.auth.models import Session, User
from app.core.audit import AuditLog
from app.core.db import utcnow
from tests.conftest import BASE_URL, Client, signed_in, unique_email

API = "/api/auth/admin"


class Person:
    """A signed-in user with a browser of their own (cookie jar)."""

    def __init__(self, client: Client, email: str, user_id: str) -> None:
        self.client = client
        self.email = email
        self.id = user_id

    async def api(self, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        """Call the admin API: a POST with `body`, else a GET with `params`."""
        if body is None:
            return await self.client.get(f"{API}/{path}", params=params)
        return await self.client.post(f"{API}/{path}", json=body)


async def person(app: Litestar, role: str | None = None, email: str | None = None) -> Person:
    """A new user signed in in a new client, given `role` (close it with `await p.client.aclose()`)."""
    client = Client(app=app, base_url=BASE_URL)
    client.headers["origin"] = BASE_URL
    email = await signed_in(client, email or unique_email("adm"))
    user_id = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    if role is not None:
        await set_role(app, user_id, role)
    return Person(client, email, user_id)


async def set_role(app: Litestar, user_id: str, role: str) -> None:
    async with app.state.db.sessions() as db:
        await db.exec(update(User).where(col(User.id) == uuid.UUID(user_id)).values(role=role))
        await db.commit()


async def user_row(app: Litestar, user_id: str) -> User | None:
    async with app.state.db.sessions() as db:
        user: User | None = await db.get(User, uuid.UUID(user_id))
        return user


async def age_sessions(app: Litestar, minutes: int) -> None:
    """Make every session's sign-in `minutes` old (no longer fresh past the fresh age)."""
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
        await db.commit()


async def session_ids(app: Litestar, user_id: str) -> list[str]:
    async with app.state.db.sessions() as db:
        rows = await db.exec(select(Session.id).where(col(Session.user_id) == uuid.UUID(user_id)))
        return sorted(str(row) for row in rows.all())


async def audit_count(app: Litestar) -> int:
    async with app.state.db.sessions() as db:
        return int((await db.exec(select(func.count()).select_from(AuditLog))).one())


async def audit_events(app: Litestar, target_id: str) -> list[tuple[str, str | None]]:
    """(event, actor) of the audit rows about one target, oldest first."""
    async with app.state.db.sessions() as db:
        query = select(AuditLog).where(AuditLog.target_id == target_id).order_by(col(AuditLog.created_at))
        return [(row.event, str(row.actor_id) if row.actor_id else None) for row in (await db.exec(query)).all()]
