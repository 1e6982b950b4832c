"""The session hot path's shortcuts keep the rules: remembered cache cookies, memoised answers, one read at sign-in."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from litestar import Litestar
from sqlmodel import col, func, select

from app import hooks
from app.auth import SessionField
from app.auth import sessions as sessions_module
from app.auth.models import Session, User
from app.auth.schemas import iso
from app.auth.sessions import Principal, SessionManager
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, sign_up_api, signed_in, unique_email


def cached_app(make_app: AppFactory) -> tuple[Litestar, Client]:
    """An app with the cookie cache on, and a client for it (to be entered with `async with`)."""
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 60})
    client = Client(app=app, base_url=BASE_URL)
    client.headers["origin"] = BASE_URL
    return app, client


async def sign_in_cached(client: Client) -> None:
    """Sign in, then one request that sets the cache cookie (and makes the app remember it)."""
    await signed_in(client)
    assert (await client.get("/api/auth/get-session")).json() is not None
    assert "session_cache" in client.cookies


async def test_a_remembered_cache_cookie_still_expires(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app, client = cached_app(make_app)
    async with client:
        await sign_in_cached(client)
        manager = app.state.auth.sessions
        value, token = client.cookies["session_cache"], client.cookies["session"]
        assert manager.read_cache_cookie(value, token) is not None  # remembered from the request above
        assert (value, token) in manager._cache_memo
        later = time.time() + 61
        monkeypatch.setattr(time, "time", lambda: later)
        assert manager.read_cache_cookie(value, token) is None
        assert manager.read_cache_cookie(value, "another token") is None
        await app.state.mailer.drain()


async def test_a_remembered_cache_cookie_counts_only_with_its_token(make_app: AppFactory) -> None:
    app, client = cached_app(make_app)
    async with client:
        await sign_in_cached(client)
        manager = app.state.auth.sessions
        value = client.cookies["session_cache"]
        assert manager.read_cache_cookie(value, client.cookies["session"]) is not None
        assert manager.read_cache_cookie(value, "someone else's token") is None
        assert [token for _, token in manager._cache_memo] == [client.cookies["session"]]  # only the bound pair
        assert manager.read_cache_cookie(value[:-2] + "xx", client.cookies["session"]) is None  # tampered
        await app.state.mailer.drain()


async def test_the_memory_of_cache_cookies_is_bounded(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions_module, "CACHE_MEMO_SIZE", 2)
    app, client = cached_app(make_app)
    async with client:
        await sign_in_cached(client)
        manager = app.state.auth.sessions
        principal = manager.read_cache_cookie(client.cookies["session_cache"], client.cookies["session"])
        assert principal is not None
        cookies = [manager.cache_cookie(principal, f"token-{n}").value for n in range(4)]
        for n, value in enumerate(cookies):
            assert manager.read_cache_cookie(value, f"token-{n}") == principal
        assert list(manager._cache_memo) == [(cookies[2], "token-2"), (cookies[3], "token-3")]
        await app.state.mailer.drain()


async def test_a_principal_builds_each_derived_value_once(client: Client, app: Litestar) -> None:
    await signed_in(client)
    principal, _ = await app.state.auth.sessions.resolve(client.cookies["session"])
    assert isinstance(principal, Principal)
    calls: list[Principal] = []

    def build(p: Principal) -> str:
        calls.append(p)
        return p.email.upper()

    assert principal.memo(build) == principal.memo(build) == principal.email.upper()
    assert calls == [principal]
    answer = (await client.get("/api/auth/get-session")).json()
    assert answer["user"]["email"] == principal.email and answer["session"]["id"] == str(principal.session_id)


async def test_a_looked_up_principal_is_kept_only_while_its_row_reads_the_same(
    client: Client, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every lookup asks the database; only what is built from an unchanged row is reused."""
    email = await signed_in(client)
    token = client.cookies["session"]
    manager = app.state.auth.sessions
    first, _ = await manager.resolve(token)
    again, _ = await manager.resolve(token)
    assert first is not None and again is first  # the same object: its get-session answer is built once
    async with app.state.db.sessions() as db:  # the user renamed elsewhere (another instance, the admin)
        user = (await db.exec(select(User).where(User.email == email))).one()
        user.name = "Renamed Elsewhere"
        db.add(user)
        await db.commit()
    renamed, _ = await manager.resolve(token)
    assert renamed is not None and renamed is not first and renamed.name == "Renamed Elsewhere"
    assert (await client.get("/api/auth/get-session")).json()["user"]["name"] == "Renamed Elsewhere"
    async with app.state.db.sessions() as db:  # revoked elsewhere: the memory does not outlive the row
        await db.delete((await db.exec(select(Session).where(Session.id == first.session_id))).one())
        await db.commit()
    assert await manager.resolve(token) == (None, False)
    assert (await client.get("/api/auth/get-session")).json() is None

    monkeypatch.setattr(sessions_module, "PRINCIPAL_MEMO_SIZE", 2)
    manager._principals.clear()
    for _ in range(3):
        await signed_in(client)
        await manager.resolve(client.cookies["session"])
    assert len(manager._principals) == 2  # bounded: the oldest went


async def test_a_feature_session_field_comes_with_the_lookup_and_the_snapshot(client: Client, app: Litestar) -> None:
    """A SessionField is read by the lookup's one SELECT, carried by the cache cookie, and only by a
    cookie made for the same fields (a snapshot from before a feature was switched on is not used)."""
    await signed_in(client)
    token = client.cookies["session"]
    engine, reader = app.state.auth.sessions.engine, app.state.auth.sessions.reader
    plain = SessionManager(app.state.settings, engine, reader)  # no feature adds a field
    method = SessionField("signInMethodShout", func.upper(col(Session.sign_in_method)))
    with_field = SessionManager(app.state.settings, engine, reader, [method])
    principal, _ = await with_field.resolve(token)
    assert principal is not None and principal.field("signInMethodShout") == "PASSWORD"
    assert principal.fields == (("signInMethodShout", "PASSWORD"),) and principal.field("unknown") is None
    cookie = str(with_field.cache_cookie(principal, token).value)
    assert with_field.read_cache_cookie(cookie, token) == principal
    assert plain.read_cache_cookie(cookie, token) is None  # made with other fields
    plain_principal, _ = await plain.resolve(token)
    assert plain_principal is not None and plain_principal.fields == ()
    assert with_field.read_cache_cookie(str(plain.cache_cookie(plain_principal, token).value), token) is None


async def test_sign_in_hooks_get_a_user_they_can_change(
    client: Client, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign-in reads the user with one direct SELECT; the User it hands to hooks is still a persistent row."""
    email = unique_email()
    assert (await sign_up_api(client, email)).status_code == 200

    async def rename(ctx: hooks.HookContext, user: User, method: str) -> None:
        user.name = "Renamed By Hook"
        ctx.db.add(user)

    monkeypatch.setattr(hooks, "before_sign_in", rename)
    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["name"] == "Renamed By Hook"
    async with app.state.db.sessions() as db:
        stored = (await db.exec(select(User).where(User.email == email))).one()
    assert stored.name == "Renamed By Hook"


async def test_sign_in_refusals_are_unchanged(client: Client) -> None:
    email = unique_email()
    assert (await sign_up_api(client, email)).status_code == 200
    wrong = await client.post("/api/auth/sign-in/email", json={"email": email, "password": "not the password"})
    unknown = await client.post("/api/auth/sign-in/email", json={"email": unique_email(), "password": STRONG_PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "INVALID_EMAIL_OR_PASSWORD"


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 11, 22, 18, 5, 9, 123987, tzinfo=UTC), "2026-11-22T18:05:09.123Z"),  # milliseconds, cut
        (datetime(2026, 11, 22, 18, 5, 9, tzinfo=UTC), "2026-11-22T18:05:09.000Z"),
        (datetime(2026, 11, 22, 19, 5, 9, 500000, tzinfo=timezone(timedelta(hours=1))), "2026-11-22T18:05:09.500Z"),
    ],
)
def test_timestamps_are_written_as_javascript_writes_them(moment: datetime, written: str) -> None:
    """Date.toJSON()'s shape, which Better Auth's client parses (UTC, three fraction digits, Z)."""
    assert iso(moment) == written
