"""The session list over the JSON API: Better Auth's paths and shapes, only one's own sessions, events."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from litestar import Litestar
from sqlmodel import select

import app.auth.sessions as sessions_module
from app.auth.models import Session
from app.core.audit import AuditLog
from tests.auth.test_sessions import shift_session
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, signed_in

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


@asynccontextmanager
async def device(app: Litestar, email: str, user_agent: str = FIREFOX_LINUX) -> AsyncIterator[Client]:
    """Another browser of the same user, signed in."""
    async with Client(app=app, base_url=BASE_URL, client_ip="203.0.113.7") as other:
        other.headers.update({"origin": BASE_URL, "user-agent": user_agent})
        response = await other.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 200, response.text
        yield other


async def session_id(client: Client) -> str:
    """The public id of a client's current session."""
    session_id: str = (await client.get("/api/auth/get-session")).json()["session"]["id"]
    return session_id


async def revoked_events(app: Litestar) -> list[AuditLog]:
    async with app.state.db.sessions() as db:
        return list((await db.exec(select(AuditLog).where(AuditLog.event == "session.revoked"))).all())


async def test_list_sessions_shows_each_device_with_a_public_handle_only(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email, SAFARI_IPHONE) as phone:
        listed = (await client.get("/api/auth/list-sessions")).json()
        assert isinstance(listed, list) and len(listed) == 2
        assert {s["id"] for s in listed} == {await session_id(client), await session_id(phone)}
        for session in listed:
            assert set(session) == {
                "id",
                "token",
                "userId",
                "expiresAt",
                "createdAt",
                "updatedAt",
                "ipAddress",
                "userAgent",
            }
            assert session["token"] == session["id"]
            assert session["createdAt"].endswith("Z") and len(session["createdAt"]) == 24
        secrets = {client.cookies["session"], phone.cookies["session"]}
        assert not secrets & {s["token"] for s in listed}
        body = (await client.get("/api/auth/list-sessions")).text
        assert not [secret for secret in secrets if secret in body]
        phone_id = await session_id(phone)
        phone_row = next(s for s in listed if s["id"] == phone_id)
        assert phone_row["userAgent"] == SAFARI_IPHONE and phone_row["ipAddress"] == "203.0.113.7"


async def test_users_never_see_each_others_sessions(client: Client, app: Litestar) -> None:
    await signed_in(client)
    async with Client(app=app, base_url=BASE_URL) as mallory:
        mallory.headers["origin"] = BASE_URL
        await signed_in(mallory)
        mine = {s["id"] for s in (await client.get("/api/auth/list-sessions")).json()}
        theirs = {s["id"] for s in (await mallory.get("/api/auth/list-sessions")).json()}
        assert mine == {await session_id(client)} and theirs == {await session_id(mallory)}


async def test_revoke_session_signs_that_device_out_on_its_next_request(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        target = await session_id(laptop)
        response = await client.post("/api/auth/revoke-session", json={"token": target})
        assert response.status_code == 200 and response.json() == {"status": True}
        assert (await laptop.get("/api/auth/get-session")).json() is None
        assert (await client.get("/api/auth/get-session")).json() is not None
        assert [s["id"] for s in (await client.get("/api/auth/list-sessions")).json()] == [await session_id(client)]
    [event] = await revoked_events(app)
    assert event.target_id == target and event.data == {"reason": "revoked"} and event.ip == "127.0.0.1"


async def test_another_users_session_is_answered_as_not_found_and_survives(client: Client, app: Litestar) -> None:
    await signed_in(client)
    async with Client(app=app, base_url=BASE_URL) as victim:
        victim.headers["origin"] = BASE_URL
        await signed_in(victim)
        victims = await session_id(victim)
        answers = [
            await client.post("/api/auth/revoke-session", json={"token": token})
            for token in (victims, str(uuid.uuid4()), "not-a-session-id", victim.cookies["session"])
        ]
        assert {a.status_code for a in answers} == {404}
        assert all(a.json() == answers[0].json() for a in answers)
        assert answers[0].json()["code"] == "SESSION_NOT_FOUND"
        assert (await victim.get("/api/auth/get-session")).json()["session"]["id"] == victims
    assert await revoked_events(app) == []


async def test_revoke_other_sessions_keeps_this_one(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop, device(app, email, SAFARI_IPHONE) as phone:
        response = await client.post("/api/auth/revoke-other-sessions")
        assert response.json() == {"status": True}
        assert (await laptop.get("/api/auth/get-session")).json() is None
        assert (await phone.get("/api/auth/get-session")).json() is None
        assert (await client.get("/api/auth/get-session")).json() is not None
    events = await revoked_events(app)
    assert len(events) == 2 and {e.data["reason"] for e in events} == {"revoked-others"}


async def test_revoke_sessions_signs_out_everywhere_including_here(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        response = await client.post("/api/auth/revoke-sessions")
        assert response.json() == {"status": True}
        assert any(c.startswith("session=") and "Max-Age=0" in c for c in response.headers.get_list("set-cookie"))
        assert (await laptop.get("/api/auth/get-session")).json() is None
        assert (await client.get("/api/auth/get-session")).json() is None
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(Session))).all() == []
    assert {e.data["reason"] for e in await revoked_events(app)} == {"revoked-all"}


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/auth/revoke-other-sessions", None),
        ("/api/auth/revoke-sessions", None),
        ("/api/auth/revoke-session", "other"),
    ],
)
async def test_revoking_needs_a_fresh_session(client: Client, app: Litestar, path: str, body: str | None) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        await shift_session(app, authenticated_at=timedelta(hours=1))
        payload = {"token": await session_id(laptop)} if body else None
        response = await client.post(path, json=payload)
        assert response.status_code == 403 and response.json()["code"] == "SESSION_NOT_FRESH"
        assert (await laptop.get("/api/auth/get-session")).json() is not None


async def test_revoking_this_session_is_signing_out_and_needs_no_fresh_session(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await shift_session(app, authenticated_at=timedelta(hours=1))
    response = await client.post("/api/auth/revoke-session", json={"token": await session_id(client)})
    assert response.status_code == 200
    assert (await client.get("/api/auth/get-session")).json() is None
    assert [e.data["reason"] for e in await revoked_events(app)] == ["sign-out"]


async def test_list_and_revoke_need_a_signed_in_user(client: Client) -> None:
    assert (await client.get("/api/auth/list-sessions")).status_code == 401
    for path in ("/api/auth/revoke-session", "/api/auth/revoke-other-sessions", "/api/auth/revoke-sessions"):
        response = await client.post(path, json={"token": str(uuid.uuid4())})
        assert response.status_code == 401 and response.json()["code"] == "UNAUTHORIZED"


async def test_password_change_and_reset_record_the_sessions_they_end(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        other = await session_id(laptop)
        response = await client.post(
            "/api/auth/change-password",
            json={
                "currentPassword": STRONG_PASSWORD,
                "newPassword": "a new long passphrase 9",
                "revokeOtherSessions": True,
            },
        )
        assert response.status_code == 200
    events = await revoked_events(app)
    assert {(e.target_id, e.data["reason"]) for e in events} == {(other, "password-changed")}


async def test_with_the_cookie_cache_a_revoked_browser_is_out_once_its_cache_expires(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 60})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        email = await signed_in(client)
        async with device(app, email) as laptop:
            assert (await laptop.get("/api/auth/get-session")).json() is not None  # cache cookie set
            assert "session_cache" in laptop.cookies
            await client.post("/api/auth/revoke-session", json={"token": await session_id(laptop)})
            assert (await laptop.get("/api/auth/get-session")).json() is not None  # within the documented delay
            later = time.time() + 61  # the server's clock only: the test client still sends the cookie
            monkeypatch.setattr(sessions_module, "time", SimpleNamespace(time=lambda: later))
            assert (await laptop.get("/api/auth/get-session")).json() is None
        await app.state.mailer.drain()
