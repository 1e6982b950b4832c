"""Shared steps of the organization tests: people with their own browser, organizations, invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.auth.models import Session
from app.core.audit import AuditLog
from app.core.db import utcnow
from tests.conftest import BASE_URL, Client, Inbox, signed_in, unique_email


class Person:
    """A signed-in user with a browser of their own (cookie jar)."""

    def __init__(self, client: Client, email: str, user_id: str) -> None:
        self.client = client
        self.email = email
        self.id = user_id

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self.client.post(f"/api/auth/organization/{path}", json=body)

    async def get(self, path: str, **params: str) -> Any:
        return await self.client.get(f"/api/auth/organization/{path}", params=params)


async def person(app: Litestar, name: str = "Ada Lovelace", email: str | None = None) -> Person:
    """A new user, signed in in a new client (close it with `await p.client.aclose()`, or use `people`)."""
    client = Client(app=app, base_url=BASE_URL)
    client.headers["origin"] = BASE_URL
    email = await signed_in(client, email or unique_email("org"))
    if name != "Ada Lovelace":
        await client.post("/api/auth/update-user", json={"name": name})
    user_id = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    return Person(client, email, user_id)


async def create_org(owner: Person, name: str = "Acme", slug: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "slug": slug or unique_email("acme").split("@")[0].lower(), **extra}
    response = await owner.post("create", body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def invite_token(owner: Person, inbox: Inbox, org_id: str, email: str, role: str = "member") -> str:
    """Invite `email` and return the token of the link in the mail it receives."""
    response = await owner.post("invite-member", {"email": email, "role": role, "organizationId": org_id})
    assert response.status_code == 200, response.text
    mail = await inbox.last(email)
    return str(parse_qs(urlsplit(mail.link("/invitations/accept")).query)["token"][0])


async def join(owner: Person, member: Person, inbox: Inbox, org_id: str, role: str = "member") -> str:
    """Invite `member` with `role` and accept as them; the new member's id."""
    token = await invite_token(owner, inbox, org_id, member.email, role)
    accepted = await member.post("accept-invitation", {"token": token})
    assert accepted.status_code == 200, accepted.text
    member_id: str = accepted.json()["member"]["id"]
    return member_id


async def age_sessions(app: Litestar, minutes: int) -> None:
    """Make every session's last sign-in older, so sensitive actions need re-authentication."""
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
        await db.commit()


async def audit_events(app: Litestar, prefix: str = "organization.") -> list[str]:
    async with app.state.db.sessions() as db:
        rows = (await db.exec(select(AuditLog).order_by(AuditLog.created_at))).all()  # type: ignore[arg-type]
    return [row.event for row in rows if row.event.startswith(prefix)]
