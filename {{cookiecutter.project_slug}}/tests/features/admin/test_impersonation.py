"""Impersonation: an admin becomes a user for an hour, cannot escalate, and comes back.

Time is a stopped clock that the test moves (or, for the cookie cache, whose clock is the
system's, the session's timestamps moved into the past): nothing waits, nothing depends on speed.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col, select

from app.auth.models import Session
from app.core.db import utcnow
from app.features.admin.models import Impersonation
from tests.conftest import AppFactory, Client
from tests.features.admin.conftest import People
from tests.features.admin.helpers import API, Person, age_sessions, audit_events, person, session_ids

STOP = "/admin/impersonation/stop"
PASSWORD = "correct horse battery staple 42"


async def impersonate(admin: Person, victim: Person) -> dict[str, object]:
    answer = await admin.api("impersonate-user", {"userId": victim.id})
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def whoami(client: Client) -> dict[str, object] | None:
    session: dict[str, object] | None = (await client.get("/api/auth/get-session")).json()
    return session


def drop_cache(client: Client) -> None:
    """Forget the signed session snapshot: the next request reads the session row."""
    for name in [name for name in client.cookies if name.endswith("session_cache")]:
        client.cookies.delete(name)


async def pass_time(app: Litestar, session_id: str, minutes: int) -> None:
    """As if `minutes` had passed for one session: every timestamp of its row moves back."""
    ago = timedelta(minutes=minutes)
    async with app.state.db.sessions() as db:
        row = await db.get(Session, uuid.UUID(session_id))
        assert row is not None
        values = {
            name: getattr(row, name) - ago
            for name in ("created_at", "updated_at", "authenticated_at", "expires_at", "absolute_expires_at")
        }
        await db.exec(update(Session).where(col(Session.id) == row.id).values(**values))
        await db.commit()


async def test_an_admin_becomes_the_user_and_comes_back(app: Litestar, people: People) -> None:
    admin, victim = await people("admin"), await people()
    own_session = (await whoami(admin.client) or {})["session"]
    started = await impersonate(admin, victim)
    assert started["user"]["id"] == victim.id  # type: ignore[index]
    assert started["session"]["impersonatedBy"] == admin.id  # type: ignore[index]

    me = await whoami(admin.client)
    assert me is not None and me["user"]["email"] == victim.email  # type: ignore[index]
    assert me["session"]["impersonatedBy"] == admin.id  # type: ignore[index]
    listed = await admin.client.get("/account/security")
    assert "An administrator (impersonation)" in listed.text  # the user's own session list says so
    assert "Stop impersonating" in listed.text
    sessions = await people("admin")  # another admin sees it in the console's session list
    answer = await sessions.api("list-user-sessions", {"userId": victim.id})
    assert [s["impersonatedBy"] for s in answer.json()["sessions"]].count(admin.id) == 1

    stopped = await admin.client.post(f"{API}/stop-impersonating")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["user"]["id"] == admin.id
    me = await whoami(admin.client)
    assert me is not None and me["session"] == own_session | {"updatedAt": me["session"]["updatedAt"]}  # type: ignore[operator, index]
    assert (await admin.client.get("/admin/users")).status_code == 200
    assert len(await session_ids(app, victim.id)) == 1  # the user's own; the impersonation is gone
    events = [event for event, actor in await audit_events(app, victim.id) if actor == admin.id]
    assert events == ["admin.impersonation_started", "admin.impersonation_stopped"]


async def test_no_sensitive_action_while_impersonating(app: Litestar, people: People) -> None:
    admin, victim = await people("admin"), await people()
    await impersonate(admin, victim)
    client = admin.client
    refused = [
        await client.post(
            "/api/auth/change-password", json={"currentPassword": PASSWORD, "newPassword": PASSWORD + "x"}
        ),
        await client.post("/api/auth/change-email", json={"newEmail": "taken-over@example.com"}),
        await client.post("/api/auth/delete-user", json={"password": PASSWORD}),
        await client.post("/api/auth/revoke-sessions"),
    ]
    if "api_keys" in app.state.features:
        refused.append(await client.post("/api/auth/api-key/create", json={"name": "mine now"}))
    if "two_factor" in app.state.features:
        refused.append(await client.post("/api/auth/two-factor/enable", json={"password": PASSWORD}))
    for answer in refused:
        assert answer.status_code == 403, (answer.request.url, answer.text)
        assert answer.json()["code"] == "IMPERSONATING", answer.request.url
    token = await client.csrf("/account/security")
    page = await client.post("/account/password", data={"_csrf_token": token, "current_password": PASSWORD})
    assert page.status_code == 403 and "impersonating" in page.text.lower()
    # However fresh: an impersonation session is refused before its age is looked at.
    assert (await whoami(client) or {})["user"]["email"] == victim.email  # type: ignore[index]
    async with app.state.db.sessions() as db:
        assert len(await session_ids(app, victim.id)) == 2
        assert (await db.exec(select(Impersonation))).all()


async def test_the_impersonated_user_cannot_reach_the_console(app: Litestar, people: People) -> None:
    admin, victim = await people("admin"), await people()
    await impersonate(admin, victim)
    assert (await admin.client.get("/admin/users")).status_code == 404
    assert (await admin.api("list-users")).status_code == 404
    assert (await admin.api("impersonate-user", {"userId": admin.id})).status_code == 404


async def test_nobody_impersonates_a_console_user_themself_or_a_banned_user(app: Litestar, people: People) -> None:
    admin, other_admin, helper, victim = (
        await people("admin"),
        await people("admin"),
        await people("support"),
        await people(),
    )
    for target, code in ((other_admin, "YOU_CANNOT_IMPERSONATE_ADMINS"), (helper, "YOU_CANNOT_IMPERSONATE_ADMINS")):
        answer = await admin.api("impersonate-user", {"userId": target.id})
        assert (answer.status_code, answer.json()["code"]) == (403, code)
    answer = await admin.api("impersonate-user", {"userId": admin.id})
    assert (answer.status_code, answer.json()["code"]) == (400, "YOU_CANNOT_IMPERSONATE_THIS_USER")
    assert (await admin.api("ban-user", {"userId": victim.id})).status_code == 200
    answer = await admin.api("impersonate-user", {"userId": victim.id})
    assert (answer.status_code, answer.json()["code"]) == (400, "YOU_CANNOT_IMPERSONATE_THIS_USER")
    answer = await helper.api("impersonate-user", {"userId": victim.id})  # support: no such permission
    assert (answer.status_code, answer.json()["code"]) == (403, "FORBIDDEN")
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(Impersonation))).all() == []


async def test_starting_needs_a_fresh_session(app: Litestar, people: People) -> None:
    admin, victim = await people("admin"), await people()
    await age_sessions(app, 60)
    answer = await admin.api("impersonate-user", {"userId": victim.id})
    assert (answer.status_code, answer.json()["code"]) == (403, "SESSION_NOT_FRESH")


async def test_it_ends_after_an_hour(app: Litestar, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    admin, victim = await people("admin"), await people()
    now = [utcnow()]
    for module in ("app.auth.sessions", "app.features.admin.impersonation"):  # the sessions' clock, stopped
        monkeypatch.setattr(f"{module}.utcnow", lambda: now[0])
    started = await impersonate(admin, victim)
    session_id = str(started["session"]["id"])  # type: ignore[index]
    now[0] += timedelta(minutes=59, seconds=59)
    drop_cache(admin.client)
    assert (await whoami(admin.client) or {})["user"]["email"] == victim.email  # type: ignore[index]
    now[0] += timedelta(seconds=1)
    drop_cache(admin.client)
    assert await whoami(admin.client) is None
    assert session_id not in await session_ids(app, victim.id)


async def test_the_session_cache_never_outlives_the_hour(make_app: AppFactory) -> None:
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 3600})
    admin, victim = await person(app, "admin"), await person(app)
    try:
        started = await impersonate(admin, victim)
        await pass_time(app, str(started["session"]["id"]), 50)  # type: ignore[index]
        drop_cache(admin.client)
        answer = await admin.client.get("/api/auth/get-session")
        cached = [c for c in answer.headers.get_list("set-cookie") if c.split("=", 1)[0].endswith("session_cache")]
        assert len(cached) == 1
        max_age = int(cached[0].lower().split("max-age=")[1].split(";")[0])
        assert 0 < max_age <= 600  # ten minutes of the hour are left, not the cache's hour
    finally:
        await admin.client.aclose()
        await victim.client.aclose()


async def test_pages_start_show_a_banner_and_stop(app: Litestar, people: People) -> None:
    admin, victim = await people("admin"), await people()
    page = f"/admin/users/{victim.id}"
    token = await admin.client.csrf(page)
    answer = await admin.client.post(f"{page}/impersonate", data={"_csrf_token": token})
    assert (answer.status_code, answer.headers["location"]) == (303, "/account")
    account = await admin.client.get("/account")
    assert victim.email in account.text and "You are impersonating" in account.text
    token = await admin.client.csrf("/account")
    answer = await admin.client.post(STOP, data={"_csrf_token": token})
    assert (answer.status_code, answer.headers["location"]) == (303, page)
    back = await admin.client.get(page)
    assert back.status_code == 200 and "You are impersonating" not in back.text
    assert "the impersonation has ended" in back.text


async def test_stopping_without_the_kept_session_signs_out(app: Litestar, people: People) -> None:
    admin, victim = await people("admin"), await people()
    await impersonate(admin, victim)
    kept = [name for name in admin.client.cookies if name.endswith("admin_session")]
    assert kept
    admin.client.cookies.delete(kept[0])
    answer = await admin.client.post(f"{API}/stop-impersonating")
    assert answer.json() == {"session": None, "user": None}
    assert await whoami(admin.client) is None


async def test_a_ban_ends_the_impersonation_too(app: Litestar, people: People) -> None:
    admin, other, victim = await people("admin"), await people("admin"), await people()
    await impersonate(admin, victim)
    assert (await other.api("ban-user", {"userId": victim.id})).status_code == 200
    drop_cache(admin.client)
    assert await whoami(admin.client) is None
