"""Shared steps of the passkey tests: register a passkey and sign in with it over the JSON API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.auth.models import Session
from app.core.audit import AuditLog
from app.core.db import utcnow
from app.features.passkeys.models import Passkey
from tests.conftest import BASE_URL, Client
from tests.features.passkeys.authenticator import SoftAuthenticator

RP_ID = "testserver.local"


def authenticator(**kwargs: Any) -> SoftAuthenticator:
    return SoftAuthenticator(origin=BASE_URL, rp_id=RP_ID, **kwargs)


async def register(client: Client, device: SoftAuthenticator, name: str | None = None, **create: Any) -> Any:
    """Ask for creation options, answer them with `device`, and send the answer; the HTTP response."""
    options = await client.post("/api/auth/passkey/generate-register-options")
    assert options.status_code == 200, options.text
    body: dict[str, Any] = {"response": device.create(options.json(), **create)}
    if name is not None:
        body["name"] = name
    return await client.post("/api/auth/passkey/verify-registration", json=body)


async def sign_in_options(client: Client) -> dict[str, Any]:
    options = await client.post("/api/auth/passkey/generate-authenticate-options")
    assert options.status_code == 200, options.text
    result: dict[str, Any] = options.json()
    return result


async def sign_in(client: Client, device: SoftAuthenticator, **get: Any) -> Any:
    """Ask for request options, answer them with `device`, and send the assertion; the HTTP response."""
    options = await sign_in_options(client)
    return await client.post("/api/auth/passkey/verify-authentication", json={"response": device.get(options, **get)})


async def passkey_rows(app: Litestar) -> list[Passkey]:
    async with app.state.db.sessions() as db:
        return list((await db.exec(select(Passkey))).all())


async def audit_events(app: Litestar, prefix: str = "passkey.") -> list[AuditLog]:
    async with app.state.db.sessions() as db:
        rows = (await db.exec(select(AuditLog).order_by(AuditLog.created_at))).all()  # type: ignore[arg-type]
    return [row for row in rows if row.event.startswith(prefix)]


async def age_sessions(app: Litestar, minutes: int) -> None:
    """Make every session's last sign-in older, so sensitive actions need re-authentication."""
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
        await db.commit()
