"""API keys over the JSON API: shown once, stored hashed, used from headers only, scoped, rate limited, revocable."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timedelta

import pytest
from litestar import Litestar
from sqlalchemy import event, update

from app.auth import flows
from app.core.crypto import new_token
from app.core.db import utcnow
from app.core.events import RequestMeta
from app.features.api_keys.keys import KEY_LENGTH, KEY_PREFIX, looks_like_key
from app.features.api_keys.models import ApiKey
from tests.conftest import BASE_URL, AppFactory, Client, signed_in
from tests.features.api_keys.helpers import age_sessions, audit_rows, bot, create_key, key_rows


async def test_the_key_is_shown_once_and_only_its_hash_is_stored(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client, expiresIn=30 * 86400)
    key = created["key"]
    assert key.startswith(KEY_PREFIX) and len(key) == KEY_LENGTH
    assert created["start"] == key[: len(KEY_PREFIX) + 6] and created["scopes"] == ["read"]
    expires = datetime.fromisoformat(created["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=29, hours=23) < expires - utcnow() <= timedelta(days=30)
    listed = (await client.get("/api/auth/api-key/list")).json()
    assert listed["total"] == 1 and "key" not in listed["apiKeys"][0]
    assert listed["apiKeys"][0]["start"] == created["start"] and listed["apiKeys"][0]["lastRequest"] is None
    fetched = await client.get(f"/api/auth/api-key/get?id={created['id']}")
    assert fetched.json()["name"] == "CI deploy" and "key" not in fetched.json()
    (row,) = await key_rows(app)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(row.model_dump(mode="json"))


async def test_a_key_works_from_the_header_or_as_a_bearer_never_from_the_query(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    key = (await create_key(client))["key"]
    async with bot(app) as script:
        for headers in ({"x-api-key": key}, {"authorization": f"Bearer {key}"}):
            response = await script.get("/api/me", headers=headers)
            assert response.status_code == 200, response.text
            assert response.json() == {
                "user": response.json()["user"] | {"email": email},
                "via": "api-key",
                "scopes": ["read"],
            }
            assert response.headers["cache-control"] == "no-store"
        for query in (f"api_key={key}", f"key={key}", f"apiKey={key}", f"x-api-key={key}"):
            ignored = await script.get(f"/api/me?{query}")
            assert ignored.status_code == 401 and ignored.json()["code"] == "UNAUTHORIZED"
        wrong = await script.get("/api/me", headers={"x-api-key": key[:-4] + "AAAA"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_API_KEY"
        garbage = await script.get("/api/me", headers={"x-api-key": "hello"})
        assert garbage.status_code == 401 and garbage.json()["code"] == "INVALID_API_KEY"


async def test_session_tokens_are_never_taken_for_keys() -> None:
    assert all(not looks_like_key(new_token()) for _ in range(200))
    assert len(new_token()) != KEY_LENGTH


async def test_an_owner_in_the_body_is_ignored(client: Client, app: Litestar) -> None:
    async with Client(app=app, base_url=BASE_URL) as victim_client:
        victim_client.headers["origin"] = BASE_URL
        victim = await signed_in(victim_client)
        victim_id = (await victim_client.get("/api/auth/get-session")).json()["user"]["id"]
        attacker = await signed_in(client)
        created = await create_key(client, userId=victim_id, referenceId=victim_id, user_id=victim_id)
        assert created["userId"] != victim_id
        async with bot(app) as script:
            me = (await script.get("/api/me", headers={"x-api-key": created["key"]})).json()
        assert me["user"]["email"] == attacker and me["user"]["email"] != victim
        assert (await victim_client.get("/api/auth/api-key/list")).json() == {"apiKeys": [], "total": 0}


async def test_a_revoked_key_fails_on_the_very_next_request(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client)
    async with bot(app) as script:
        use = {"x-api-key": created["key"]}
        assert (await script.get("/api/me", headers=use)).status_code == 200
        response = await client.post("/api/auth/api-key/delete", json={"keyId": created["id"]})
        assert response.json() == {"success": True}
        refused = await script.get("/api/me", headers=use)
        assert refused.status_code == 401 and refused.json()["code"] == "INVALID_API_KEY"
    assert (await client.get("/api/auth/api-key/list")).json()["total"] == 0
    again = await client.post("/api/auth/api-key/delete", json={"keyId": created["id"]})
    assert again.status_code == 404 and again.json()["code"] == "KEY_NOT_FOUND"


async def test_deleting_the_user_deletes_their_keys(client: Client, app: Litestar) -> None:
    await signed_in(client)
    key = (await create_key(client))["key"]
    async with bot(app) as script:
        assert (await script.get("/api/me", headers={"x-api-key": key})).status_code == 200
        assert (await client.post("/api/auth/delete-user", json={})).status_code == 200
        assert (await script.get("/api/me", headers={"x-api-key": key})).json()["code"] == "INVALID_API_KEY"
    assert await key_rows(app) == []


async def test_an_expired_key_is_refused_and_listed_as_such(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client, expiresIn=86400)
    async with app.state.db.sessions() as db:
        await db.exec(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    async with bot(app) as script:
        assert (await script.get("/api/me", headers={"x-api-key": created["key"]})).status_code == 401
    assert (await client.get("/api/auth/api-key/list")).json()["apiKeys"][0]["id"] == created["id"]
    assert [row.data for row in await audit_rows(app, "api_key.use_denied")] == [{"reason": "expired"}]


async def test_a_banned_users_key_fails_on_the_next_request(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    key = (await create_key(client))["key"]
    async with bot(app) as script:
        assert (await script.get("/api/me", headers={"x-api-key": key})).status_code == 200
        async with app.state.db.sessions() as db:
            user = await app.state.auth.user_by_email(db, email)
            await flows.account.ban_user(app.state.auth, db, RequestMeta(), user, "abuse")
        refused = await script.get("/api/me", headers={"x-api-key": key})
        assert refused.status_code == 401 and refused.json()["code"] == "INVALID_API_KEY"
        async with app.state.db.sessions() as db:
            user = await app.state.auth.user_by_email(db, email)
            await flows.account.unban_user(app.state.auth, db, RequestMeta(), user)
        assert (await script.get("/api/me", headers={"x-api-key": key})).status_code == 200
    assert [row.data for row in await audit_rows(app, "api_key.use_denied")] == [{"reason": "banned"}]


async def test_each_key_has_its_own_rate_limit(make_app: AppFactory) -> None:
    app = make_app(api_keys={"rate_limit": 3})
    async with Client(app=app, base_url=BASE_URL) as client, bot(app) as script:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        busy, other = (await create_key(client, "busy"))["key"], (await create_key(client, "other"))["key"]
        codes = [(await script.get("/api/me", headers={"x-api-key": busy})).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = await script.get("/api/me", headers={"authorization": f"Bearer {busy}"})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) <= 60
        assert (await script.get("/api/me", headers={"x-api-key": other})).status_code == 200
    denied = await audit_rows(app, "api_key.use_denied")
    assert [row.data for row in denied] == [{"reason": "rate_limited"}]  # one entry, not one per refusal


async def test_scopes_limit_what_a_key_may_call(client: Client, app: Litestar) -> None:
    await signed_in(client)
    bare = (await create_key(client, "no scopes", scopes=[]))["key"]
    async with bot(app) as script:
        response = await script.get("/api/me", headers={"x-api-key": bare})
        again = await script.get("/api/me", headers={"x-api-key": bare})
    assert response.status_code == 403 and response.json()["code"] == "INSUFFICIENT_SCOPE"
    assert again.status_code == 403
    # Audited, once a minute per key and reason, however many requests are refused.
    denied = await audit_rows(app, "api_key.use_denied")
    assert [row.data for row in denied] == [{"reason": "scope:read"}]
    unknown = await client.post("/api/auth/api-key/create", json={"name": "x", "scopes": ["admin"]})
    assert unknown.status_code == 400 and unknown.json()["code"] == "VALIDATION_ERROR"
    assert (await client.get("/api/me")).json()["via"] == "session"  # a session holds every scope


async def test_keys_are_managed_from_a_signed_in_session_never_with_a_key(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client, scopes=["read", "write"])
    use = {"x-api-key": created["key"]}
    async with bot(app) as script:
        assert (await script.get("/api/auth/api-key/list", headers=use)).status_code == 401
        assert (await script.post("/api/auth/api-key/create", json={"name": "more"}, headers=use)).status_code == 401
        assert (
            await script.post("/api/auth/api-key/delete", json={"keyId": created["id"]}, headers=use)
        ).status_code == 401
        assert (await script.get("/api/auth/get-session", headers=use)).json() is None
    # Beside the owner's cookie, the key still decides: it cannot manage keys or the account.
    assert (await client.get("/api/auth/api-key/list", headers=use)).status_code == 401
    assert (await client.post("/api/auth/update-user", json={"name": "Mallory"}, headers=use)).status_code == 401
    assert (await client.get("/api/auth/api-key/list")).json()["total"] == 1


async def test_creating_and_revoking_need_a_fresh_session(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client)
    await age_sessions(app, minutes=60)
    stale = await client.post("/api/auth/api-key/create", json={"name": "late"})
    assert stale.status_code == 403 and stale.json()["code"] == "SESSION_NOT_FRESH"
    stale = await client.post("/api/auth/api-key/delete", json={"keyId": created["id"]})
    assert stale.status_code == 403 and stale.json()["code"] == "SESSION_NOT_FRESH"
    assert (await client.get("/api/auth/api-key/list")).json()["total"] == 1


async def test_last_uses_that_fall_due_together_are_written_in_few_transactions(client: Client, app: Litestar) -> None:
    """One write transaction at a time per process, each carrying every key then waiting for it: on
    SQLite, concurrent writers would otherwise wait on each other in sleeps of up to 100 ms."""
    await signed_in(client)
    keys = [(await create_key(client, name=f"worker {n}"))["key"] for n in range(12)]
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "commit", committed)
    try:
        async with bot(app) as script:
            answers = await asyncio.gather(*(script.get("/api/me", headers={"x-api-key": key}) for key in keys))
    finally:
        event.remove(engine, "commit", committed)
    assert [answer.status_code for answer in answers] == [200] * len(keys)
    rows = await key_rows(app)
    assert len(rows) == len(keys) and all(row.last_used_at is not None for row in rows)
    assert 1 <= len(commits) < len(keys) // 2  # one transaction per key before


async def test_nobody_reads_or_revokes_someone_elses_key(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client)
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await signed_in(other)
        assert (await other.get(f"/api/auth/api-key/get?id={created['id']}")).status_code == 404
        response = await other.post("/api/auth/api-key/delete", json={"keyId": created["id"]})
        assert response.status_code == 404 and response.json()["code"] == "KEY_NOT_FOUND"
        assert (await other.post("/api/auth/api-key/delete", json={"keyId": "not-a-uuid"})).status_code == 404
    async with bot(app) as script:
        assert (await script.get("/api/me", headers={"x-api-key": created["key"]})).status_code == 200


async def test_last_use_is_recorded_at_most_once_a_minute(client: Client, app: Litestar) -> None:
    await signed_in(client)
    key = (await create_key(client))["key"]
    async with bot(app) as script:
        await script.get("/api/me", headers={"x-api-key": key})
        (first,) = await key_rows(app)
        await script.get("/api/me", headers={"x-api-key": key})
        (second,) = await key_rows(app)
        assert first.last_used_at is not None and second.last_used_at == first.last_used_at
        async with app.state.db.sessions() as db:
            await db.exec(update(ApiKey).values(last_used_at=utcnow() - timedelta(minutes=2)))
            await db.commit()
        await script.get("/api/me", headers={"x-api-key": key})
    (third,) = await key_rows(app)
    assert third.last_used_at is not None and third.last_used_at > first.last_used_at
    listed = (await client.get("/api/auth/api-key/list")).json()["apiKeys"][0]
    assert listed["lastRequest"] is not None


async def test_create_revoke_and_refusals_are_audited_without_secrets(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client, "audited", scopes=["read", "write"], expiresIn=7 * 86400)
    await client.post("/api/auth/api-key/delete", json={"keyId": created["id"]})
    async with bot(app) as script:
        for _ in range(3):
            await script.get("/api/me", headers={"x-api-key": created["key"]})
    rows = await audit_rows(app)
    assert [row.event for row in rows] == ["api_key.created", "api_key.revoked", "api_key.use_denied"]
    assert {row.target_id for row in rows} == {created["id"]}
    assert rows[0].data["scopes"] == ["read", "write"] and rows[0].data["key_name"] == "audited"
    assert rows[2].data == {"reason": "revoked"}
    (key_row,) = await key_rows(app)
    dumped = json.dumps([row.model_dump(mode="json") for row in rows])
    assert created["key"] not in dumped and key_row.key_hash not in dumped and created["start"] not in dumped


async def test_input_is_checked(client: Client, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    await signed_in(client)
    for body in (
        {"name": ""},
        {"name": "x" * 101},
        {"name": "x", "expiresIn": 3600},
        {"name": "x", "expiresIn": 400 * 86400},
    ):
        response = await client.post("/api/auth/api-key/create", json=body)
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR", body
    app = make_app(api_keys={"max_per_user": 2})
    async with Client(app=app, base_url=BASE_URL) as limited:
        limited.headers["origin"] = BASE_URL
        await signed_in(limited)
        await create_key(limited, "one")
        await create_key(limited, "two")
        third = await limited.post("/api/auth/api-key/create", json={"name": "three"})
        assert third.status_code == 400 and "at most 2" in third.json()["message"]
