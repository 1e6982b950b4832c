"""Banning a user: sessions end at once, every sign-in path and credential is refused, a ban can lapse."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col, select

from app.auth import flows
from app.auth.models import Session, User
from app.core.audit import AuditLog
from app.core.db import utcnow
from app.core.events import RequestMeta
from tests.cli import run_app
from tests.conftest import STRONG_PASSWORD, Client, signed_in


async def ban(app: Litestar, email: str, reason: str | None = None, days: int | None = None) -> int:
    async with app.state.db.sessions() as db:
        user = (await db.exec(select(User).where(User.email == email))).one()
        until = utcnow() + timedelta(days=days) if days else None
        return len(await flows.account.ban_user(app.state.auth, db, RequestMeta(), user, reason, until))


async def sign_in(client: Client, email: str) -> tuple[int, dict[str, object]]:
    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    return response.status_code, response.json()


async def test_a_ban_ends_every_session_on_the_next_request(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    assert (await client.get("/api/auth/get-session")).json() is not None
    assert await ban(app, email, "  spam   and abuse ") == 1
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await client.get("/account")).status_code == 303
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(Session))).all() == []
        user = (await db.exec(select(User).where(User.email == email))).one()
        entries = (await db.exec(select(AuditLog).where(AuditLog.event == "user.banned"))).all()
    assert user.banned and user.ban_reason == "spam and abuse" and user.ban_expires is None
    assert [entry.data for entry in entries] == [{"reason": "spam and abuse", "until": None}]


async def test_a_banned_user_cannot_sign_in_even_with_the_right_password(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    await ban(app, email)
    status, body = await sign_in(client, email)
    assert status == 403 and body["code"] == "BANNED_USER" and "suspended" in str(body["message"])
    # The HTML form says so too, keeping the typed address; no session cookie is set.
    page = await client.submit("/sign-in", {"email": email, "password": STRONG_PASSWORD})
    assert page.status_code == 422 and "This account is suspended" in page.text and f'value="{email}"' in page.text
    assert (await client.get("/api/auth/get-session")).json() is None
    # A wrong password says nothing about the ban (the ban is checked after the password).
    wrong = await client.post("/api/auth/sign-in/email", json={"email": email, "password": "not the password 1"})
    assert wrong.status_code == 401 and wrong.json()["code"] != "BANNED_USER"
    async with app.state.db.sessions() as db:
        failed = (await db.exec(select(AuditLog).where(AuditLog.event == "session.sign_in_failed"))).all()
    assert {"reason": "banned", "method": "password"} in [entry.data for entry in failed]


async def test_a_ban_with_an_end_lapses_and_can_be_lifted(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    await ban(app, email, days=7)
    assert (await sign_in(client, email))[0] == 403
    async with app.state.db.sessions() as db:
        await db.exec(update(User).where(col(User.email) == email).values(ban_expires=utcnow() - timedelta(seconds=1)))
        await db.commit()
    assert (await sign_in(client, email))[0] == 200  # lapsed
    await ban(app, email)
    assert (await sign_in(client, email))[0] == 403
    async with app.state.db.sessions() as db:
        user = (await db.exec(select(User).where(User.email == email))).one()
        await flows.account.unban_user(app.state.auth, db, RequestMeta(), user)
    assert (await sign_in(client, email))[0] == 200


def test_operators_ban_and_unban_from_the_command_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/ban.db", "APP_ENV": "test"}
    assert run_app("db", "upgrade", env=env).returncode == 0
    password = {"APP_NEW_USER_PASSWORD": "correct horse battery staple"}
    created = run_app("users", "create", "--email", "eve@example.com", "--name", "Eve", env=env | password)
    assert created.returncode == 0, created.stderr
    banned = run_app("users", "ban", "Eve@Example.com", "--reason", "fraud", "--days", "30", env=env)
    assert banned.returncode == 0, banned.stderr
    assert "Banned Eve@Example.com for 30 days; 0 sessions ended." in banned.stdout
    unknown = run_app("users", "ban", "nobody@example.com", env=env)
    assert unknown.returncode != 0 and "No user has the email nobody@example.com." in unknown.stderr
    assert "Traceback" not in unknown.stderr
    bad_days = run_app("users", "ban", "eve@example.com", "--days", "0", env=env)
    assert bad_days.returncode != 0 and "--days" in bad_days.stderr and "Traceback" not in bad_days.stderr
    lifted = run_app("users", "unban", "eve@example.com", env=env)
    assert lifted.returncode == 0 and "Lifted the ban on eve@example.com." in lifted.stdout
