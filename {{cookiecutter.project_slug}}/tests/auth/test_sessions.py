"""Session lifetime: renewal without needless writes, absolute cap, freshness, rotation, cookie cache."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.auth.models import Session
from app.core.db import utcnow
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, signed_in


async def only_session(app: Litestar) -> Session:
    async with app.state.db.sessions() as db:
        rows = (await db.exec(select(Session))).all()
    assert len(rows) == 1
    session: Session = rows[0]
    return session


async def shift_session(app: Litestar, **ages: timedelta) -> None:
    """Move a session's timestamps into the past, as if time had passed."""
    now = utcnow()
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(**{k: now - v for k, v in ages.items()}))
        await db.commit()


async def test_requests_do_not_write_until_renewal_is_due(client: Client, app: Litestar) -> None:
    await signed_in(client)
    before = await only_session(app)
    for _ in range(3):
        assert (await client.get("/api/auth/get-session")).json() is not None
    after = await only_session(app)
    assert after.updated_at == before.updated_at and after.expires_at == before.expires_at


async def test_session_is_renewed_once_a_day_and_the_cookie_resent(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await shift_session(app, updated_at=timedelta(days=2))
    stale = await only_session(app)
    response = await client.get("/api/auth/get-session")
    assert any(c.startswith("session=") for c in response.headers.get_list("set-cookie"))
    renewed = await only_session(app)
    assert renewed.updated_at > stale.updated_at
    assert renewed.expires_at - utcnow() > timedelta(days=6)


async def test_expired_and_absolutely_expired_sessions_sign_out(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await shift_session(app, absolute_expires_at=timedelta(seconds=1))
    response = await client.get("/api/auth/get-session")
    assert response.json() is None
    assert any(c.startswith("session=;") or 'session=""' in c for c in response.headers.get_list("set-cookie"))
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(Session))).all() == []


async def test_renewal_never_goes_past_the_absolute_cap(client: Client, app: Litestar) -> None:
    await signed_in(client)
    now = utcnow()
    async with app.state.db.sessions() as db:
        await db.exec(
            update(Session).values(
                updated_at=now - timedelta(days=2),
                absolute_expires_at=now + timedelta(hours=1),
            )
        )
        await db.commit()
    await client.get("/api/auth/get-session")
    session = await only_session(app)
    assert session.expires_at <= session.absolute_expires_at


async def test_sensitive_actions_need_a_fresh_session(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await shift_session(app, authenticated_at=timedelta(minutes=16))
    response = await client.post("/api/auth/delete-user", json={})
    assert response.status_code == 403
    assert response.json()["code"] == "SESSION_NOT_FRESH"
    response = await client.post("/api/auth/change-email", json={"newEmail": "new@example.com"})
    assert response.json()["code"] == "SESSION_NOT_FRESH"
    response = await client.post(
        "/api/auth/change-password", json={"currentPassword": STRONG_PASSWORD, "newPassword": "a new passphrase 12"}
    )
    assert response.json()["code"] == "SESSION_NOT_FRESH"  # even with the right current password
    response = await client.post("/api/auth/revoke-other-sessions")
    assert response.json()["code"] == "SESSION_NOT_FRESH"
    page = await client.get("/reauthenticate?next=/account/security")
    assert page.status_code == 200
    done = await client.submit(
        "/reauthenticate", {"password": STRONG_PASSWORD, "next": "/account/security"}, page="/reauthenticate"
    )
    assert done.status_code == 303 and done.headers["location"] == "/account/security"
    response = await client.post("/api/auth/delete-user", json={})
    assert response.json() == {"success": True, "message": "User deleted"}


async def test_stale_html_delete_goes_through_reauthentication(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    await shift_session(app, authenticated_at=timedelta(hours=1))
    response = await client.submit("/account/delete", {"confirm": email}, page="/account/security")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/reauthenticate?next=%2Faccount%2Fsecurity%3Fresume%3D")


async def test_cookie_cache_spares_lookups_within_its_documented_delay(make_app: AppFactory) -> None:
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 60})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        first = await client.get("/api/auth/get-session")
        assert "session_cache" in client.cookies and first.json() is not None
        async with app.state.db.sessions() as db:  # revoke behind the browser's back
            row = (await db.exec(select(Session))).one()
            await db.delete(row)
            await db.commit()
        assert (await client.get("/api/auth/get-session")).json() is not None  # served from the signed cache
        client.cookies["session_cache"] = client.cookies["session_cache"][:-3] + "AAA"  # tampered
        assert (await client.get("/api/auth/get-session")).json() is None
        await app.state.mailer.drain()


async def test_a_cache_cookie_only_counts_with_the_token_it_was_made_for(make_app: AppFactory) -> None:
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 60})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        first = await signed_in(client)
        assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == first
        leftover = client.cookies["session_cache"]
        second = await signed_in(client)  # another user in the same browser
        client.cookies["session_cache"] = leftover
        assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == second
        await app.state.mailer.drain()


async def test_reauthentication_drops_a_cached_stale_snapshot(make_app: AppFactory) -> None:
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 300})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        await shift_session(app, authenticated_at=timedelta(hours=1))
        assert (await client.get("/api/auth/get-session")).json() is not None  # caches the stale snapshot
        done = await client.submit(
            "/reauthenticate", {"password": STRONG_PASSWORD, "next": "/"}, page="/reauthenticate"
        )
        assert done.status_code == 303
        response = await client.post("/api/auth/delete-user", json={})  # needs a fresh session
        assert response.json() == {"success": True, "message": "User deleted"}
        await app.state.mailer.drain()
