"""Password change, reset, email change, account deletion, re-hashing and the team's hooks."""

from __future__ import annotations

import threading

import bcrypt
import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app import hooks
from app.auth.models import Account, Session, User
from app.core.audit import AuditLog
from app.core.errors import Vetoed
from tests.conftest import STRONG_PASSWORD, Client, Inbox, sign_up_api, signed_in, unique_email
from tests.core.test_security import CountingHasher

NEW_PASSWORD = "another long passphrase 77"


async def test_change_password_rotates_the_token_and_can_sign_out_others(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with Client(app=app, base_url=str(client.base_url)) as other:
        other.headers["origin"] = str(client.base_url).rstrip("/")
        await other.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        old = client.cookies["session"]
        wrong = await client.post(
            "/api/auth/change-password", json={"currentPassword": "wrong password 1", "newPassword": NEW_PASSWORD}
        )
        assert wrong.status_code == 400
        response = await client.post(
            "/api/auth/change-password",
            json={"currentPassword": STRONG_PASSWORD, "newPassword": NEW_PASSWORD, "revokeOtherSessions": True},
        )
        assert response.status_code == 200
        assert client.cookies["session"] != old
        assert (await client.get("/api/auth/get-session")).json() is not None
        assert (await other.get("/api/auth/get-session")).json() is None
    await client.post("/api/auth/sign-out")
    assert (
        await client.post("/api/auth/sign-in/email", json={"email": email, "password": NEW_PASSWORD})
    ).status_code == 200


@pytest.mark.parametrize(
    "password,message",
    [
        ("short", "at least 8"),
        ("password1", "too common"),
        ("qwertyuiop", "too common"),
    ],
)
async def test_password_policy(client: Client, password: str, message: str) -> None:
    response = await sign_up_api(client, unique_email(), password)
    assert response.status_code == 400
    assert message in response.json()["message"]


async def test_password_must_not_contain_the_email_local_part(client: Client) -> None:
    response = await sign_up_api(client, "margaret.hamilton@example.com", "xx-margaret.hamilton-2024")
    assert response.status_code == 400
    assert "email" in response.json()["message"]


async def test_password_reset_is_single_use_signs_everyone_out_and_does_not_sign_in(
    client: Client, app: Litestar, inbox: Inbox
) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/request-password-reset", json={"email": email})
    token = (await inbox.last(email)).link("/reset-password").split("token=")[1]
    response = await client.post("/api/auth/reset-password", json={"token": token, "newPassword": NEW_PASSWORD})
    assert response.json() == {"status": True}
    assert "session" not in response.headers.get("set-cookie", "")
    assert (await client.get("/api/auth/get-session")).json() is None
    again = await client.post("/api/auth/reset-password", json={"token": token, "newPassword": "yet another one 12"})
    assert again.status_code == 400 and again.json()["code"] == "INVALID_TOKEN"
    ok = await client.post("/api/auth/sign-in/email", json={"email": email, "password": NEW_PASSWORD})
    assert ok.status_code == 200


async def test_a_reset_ends_every_other_link_of_the_account(client: Client, inbox: Inbox) -> None:
    email = await signed_in(client)
    links = []
    for _ in range(2):
        await client.post("/api/auth/request-password-reset", json={"email": email})
        links.append((await inbox.last(email)).link("/reset-password").split("token=")[1])
    used = await client.post("/api/auth/reset-password", json={"token": links[1], "newPassword": NEW_PASSWORD})
    assert used.json() == {"status": True}
    older = await client.post("/api/auth/reset-password", json={"token": links[0], "newPassword": "yet another one 12"})
    assert older.status_code == 400 and older.json()["code"] == "INVALID_TOKEN"


async def test_links_mailed_to_the_old_address_die_with_an_email_change(client: Client, inbox: Inbox) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/request-password-reset", json={"email": email})
    reset = (await inbox.last(email)).link("/reset-password").split("token=")[1]
    new = unique_email("new")
    await client.post("/api/auth/change-email", json={"newEmail": new})
    change = (await inbox.last(new)).link("/verify-email/change")
    assert (await client.get(change.split(str(client.base_url).rstrip("/"))[1])).status_code == 200
    late = await client.post("/api/auth/reset-password", json={"token": reset, "newPassword": NEW_PASSWORD})
    assert late.status_code == 400 and late.json()["code"] == "INVALID_TOKEN"


async def test_expired_reset_link_is_refused(client: Client, app: Litestar, inbox: Inbox) -> None:
    from app.auth.models import Verification
    from app.core.db import utcnow

    email = unique_email()
    await sign_up_api(client, email)
    await client.post("/api/auth/request-password-reset", json={"email": email})
    token = (await inbox.last(email)).link("/reset-password").split("token=")[1]
    async with app.state.db.sessions() as db:
        await db.exec(update(Verification).values(expires_at=utcnow()))
        await db.commit()
    page = await client.get(f"/reset-password?token={token}")
    assert page.status_code == 400
    response = await client.post("/api/auth/reset-password", json={"token": token, "newPassword": NEW_PASSWORD})
    assert response.json()["code"] == "INVALID_TOKEN"


async def test_change_email_confirms_the_new_address_and_tells_the_old(
    client: Client, app: Litestar, inbox: Inbox
) -> None:
    email = await signed_in(client)
    new = unique_email("new")
    response = await client.post("/api/auth/change-email", json={"newEmail": new})
    assert response.json() == {"status": True}
    notice = await inbox.last(email)
    assert new in notice.text
    link = (await inbox.last(new)).link("/verify-email/change")
    path = link.split(str(client.base_url).rstrip("/"))[1]
    assert (await client.get(path)).status_code == 200
    session = (await client.get("/api/auth/get-session")).json()
    assert session["user"]["email"] == new and session["user"]["emailVerified"] is True
    assert (await client.get(path)).status_code == 400  # single use


async def test_change_email_to_a_taken_address_reveals_nothing(client: Client, inbox: Inbox) -> None:
    taken = unique_email("taken")
    await sign_up_api(client, taken)
    await signed_in(client)
    response = await client.post("/api/auth/change-email", json={"newEmail": taken})
    assert response.json() == {"status": True}
    assert "/verify-email/change" not in (await inbox.last(taken)).text


async def test_delete_account_needs_the_typed_confirmation(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    refused = await client.submit("/account/delete", {"confirm": "yes"}, page="/account/security")
    assert refused.status_code == 422 and f"That is not your email address ({email})." in refused.text
    empty = await client.submit("/account/delete", {"confirm": " "}, page="/account/security")
    assert empty.status_code == 422 and "Type your email address to confirm." in empty.text
    done = await client.submit("/account/delete", {"confirm": email.upper()}, page="/account/security")
    assert done.status_code == 303
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(User))).all() == []
        assert (await db.exec(select(Session))).all() == []
        assert (await db.exec(select(Account))).all() == []
        assert "user.deleted" in {row.event for row in (await db.exec(select(AuditLog))).all()}


async def test_bcrypt_imports_and_old_argon2_parameters_are_rehashed(client: Client, app: Litestar) -> None:
    current = app.state.auth.passwords.hasher
    for old_hash in [
        bcrypt.hashpw(STRONG_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode(),
        PasswordHasher(time_cost=3, memory_cost=19456, parallelism=1).hash(STRONG_PASSWORD),
    ]:
        email = unique_email()
        await sign_up_api(client, email)
        async with app.state.db.sessions() as db:
            user = (await db.exec(select(User).where(User.email == email))).one()
            await db.exec(update(Account).where(Account.user_id == user.id).values(password_hash=old_hash))
            await db.commit()
        response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 200
        async with app.state.db.sessions() as db:
            stored = (await db.exec(select(Account).where(Account.user_id == user.id))).one().password_hash
        assert stored is not None and stored.startswith("$argon2id$")
        assert not current.check_needs_rehash(stored)


async def test_hashing_runs_off_the_event_loop(client: Client, app: Litestar) -> None:
    threads: list[str] = []

    class RecordingHasher(CountingHasher):
        def hash(self, password: str) -> str:
            threads.append(threading.current_thread().name)
            return super().hash(password)

    app.state.auth.passwords.hasher = RecordingHasher(app.state.auth.passwords.hasher)
    await sign_up_api(client, unique_email())
    assert threads and threads[0] != threading.main_thread().name


async def test_a_hook_can_veto_sign_up_inside_the_transaction(
    client: Client, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def only_example_org(ctx: hooks.HookContext, name: str, email: str) -> None:
        if not email.endswith("@example.org"):
            raise Vetoed("Sign-up is limited to example.org addresses.")

    monkeypatch.setattr(hooks, "before_user_create", only_example_org)
    response = await sign_up_api(client, unique_email())
    assert response.status_code == 403
    assert response.json() == {"code": "OPERATION_REFUSED", "message": "Sign-up is limited to example.org addresses."}
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(User))).all() == []


async def test_audit_log_records_who_what_where_and_no_secrets(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await client.post("/api/auth/sign-in/email", json={"email": unique_email(), "password": "x" * 10})
    async with app.state.db.sessions() as db:
        rows = (await db.exec(select(AuditLog))).all()
    events = {row.event for row in rows}
    assert {"user.created", "session.created"} <= events
    created = next(r for r in rows if r.event == "session.created")
    assert created.ip == "127.0.0.1" and created.user_agent and created.created_at.tzinfo is not None
    dumped = repr([r.model_dump() for r in rows])
    assert STRONG_PASSWORD not in dumped and client.cookies["session"] not in dumped
