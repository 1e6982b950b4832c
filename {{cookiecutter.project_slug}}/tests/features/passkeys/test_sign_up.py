"""Passkey-first sign-up (PASSKEYS_ALLOW_SIGN_UP): the address is proved by an emailed link, then the
passkey and the account are created together, with no password."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from sqlmodel import select

from app.auth.models import Account, User
from tests.conftest import AppFactory, Client, Inbox, signed_in, unique_email
from tests.features.passkeys.authenticator import UP, SoftAuthenticator
from tests.features.passkeys.helpers import audit_events, authenticator, passkey_rows, sign_in


@pytest.fixture
def app(make_app: AppFactory, request: pytest.FixtureRequest) -> Litestar:
    """The app (replaces the project's `app`), with the PASSKEYS_* a test gives through ALLOWED."""
    application: Litestar = make_app(passkeys=getattr(request, "param", {}))
    return application


# Passkey-first sign-up switched on (PASSKEYS_ALLOW_SIGN_UP), for the tests that use it.
ALLOWED = pytest.mark.parametrize("app", [{"allow_sign_up": True}], indirect=True, ids=["sign-up-allowed"])


async def emailed_token(client: Client, inbox: Inbox, email: str, name: str = "Grace Hopper") -> str:
    answer = await client.submit("/sign-up/passkey", {"name": name, "email": email})
    assert answer.status_code == 200, answer.text
    assert "Check your email" in answer.text
    link = (await inbox.last(email)).link("/sign-up/passkey/finish")
    return str(parse_qs(urlsplit(link).query)["token"][0])


async def finish(client: Client, token: str, device: SoftAuthenticator, **create: Any) -> Any:
    options = await client.post("/api/auth/passkey/sign-up/options", json={"token": token})
    assert options.status_code == 200, options.text
    response = device.create(options.json(), **create)
    return await client.post("/api/auth/passkey/sign-up/verify", json={"token": token, "response": response})


async def test_off_by_default(client: Client) -> None:
    assert (await client.get("/sign-up/passkey")).status_code == 404
    answer = await client.post("/api/auth/passkey/sign-up/request", json={"name": "A", "email": unique_email()})
    assert answer.status_code == 404
    assert "Sign up with a passkey" not in (await client.get("/sign-in")).text


@ALLOWED
async def test_sign_up_with_a_passkey_and_no_password(app: Litestar, client: Client, inbox: Inbox) -> None:
    assert "/sign-up/passkey" in (await client.get("/sign-in")).text
    email = unique_email("passkey-first")
    token = await emailed_token(client, inbox, email)
    page = await client.get(f"/sign-up/passkey/finish?token={token}")
    assert page.status_code == 200 and "data-passkey-sign-up" in page.text and email in page.text

    device = authenticator()
    done = await finish(client, token, device)
    assert done.status_code == 200, done.text
    session = (await client.get("/api/auth/get-session")).json()
    assert session["user"]["email"] == email and session["user"]["emailVerified"] is True
    async with app.state.db.sessions() as db:
        user = (await db.exec(select(User).where(User.email == email))).one()
        assert (await db.exec(select(Account).where(Account.user_id == user.id))).first() is None
    rows = await passkey_rows(app)
    assert [row.user_id for row in rows] == [user.id]
    assert device.credentials[0].user_handle == user.id.bytes
    assert [row.event for row in await audit_events(app, "user.created")] == ["user.created"]
    assert "passkey.registered" in [row.event for row in await audit_events(app)]

    # The link is used up; the passkey signs in again; it cannot be removed (the only way in).
    assert (await client.get(f"/sign-up/passkey/finish?token={token}")).status_code == 400
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, device)).json()["user"]["email"] == email
    refused = await client.post("/api/auth/passkey/delete-passkey", json={"id": str(rows[0].id)})
    assert refused.status_code == 409


@ALLOWED
async def test_a_taken_address_gets_the_same_page_and_a_note_to_its_owner(client: Client, inbox: Inbox) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    answer = await client.submit("/sign-up/passkey", {"name": "Someone", "email": email})
    assert answer.status_code == 200 and "Check your email" in answer.text
    note = await inbox.last(email)
    assert "/sign-up/passkey/finish" not in note.text
    assert "/sign-in" in note.text


@ALLOWED
async def test_user_verification_is_required_and_a_failure_keeps_the_link(
    app: Litestar, client: Client, inbox: Inbox
) -> None:
    email = unique_email("passkey-uv")
    token = await emailed_token(client, inbox, email)
    refused = await finish(client, token, authenticator(), flags=UP)
    assert refused.status_code == 401
    assert await passkey_rows(app) == []
    assert (await finish(client, token, authenticator())).status_code == 200


@ALLOWED
async def test_options_are_bound_to_their_link(app: Litestar, client: Client, inbox: Inbox) -> None:
    first = await emailed_token(client, inbox, unique_email("bound-a"))
    second = await emailed_token(client, inbox, unique_email("bound-b"))
    options = (await client.post("/api/auth/passkey/sign-up/options", json={"token": first})).json()
    response = authenticator().create(options)
    answer = await client.post("/api/auth/passkey/sign-up/verify", json={"token": second, "response": response})
    assert answer.status_code == 401
    bad = await client.post("/api/auth/passkey/sign-up/options", json={"token": "not-a-token"})
    assert bad.status_code == 400
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(User))).all() == []


@ALLOWED
async def test_form_errors_keep_the_input(client: Client) -> None:
    answer = await client.submit("/sign-up/passkey", {"name": "Ada", "email": "not an address"})
    assert answer.status_code == 422
    assert "Enter a valid email address." in answer.text
    assert 'value="Ada"' in answer.text
