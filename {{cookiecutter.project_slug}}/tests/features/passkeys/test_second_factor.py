"""A passkey as the second factor after a password, through the core gate (app.auth.second_factor)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, signed_in
from tests.features.passkeys.authenticator import UP, SoftAuthenticator
from tests.features.passkeys.helpers import audit_events, authenticator, register, sign_in


@pytest.fixture
def app(make_app: AppFactory) -> Litestar:
    """The app with PASSKEYS_SECOND_FACTOR on (replaces the project's `app`)."""
    application: Litestar = make_app(passkeys={"second_factor": True})
    return application


async def password_step(client: Client, email: str) -> None:
    """Sign out, then sign in with the password: the gate answers with a challenge, not a session."""
    await client.post("/api/auth/sign-out")
    answer = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"twoFactorRedirect": True, "twoFactorMethods": ["passkey"]}
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await client.get("/api/auth/passkey/list-user-passkeys")).status_code == 401


async def passkey_step(client: Client, device: SoftAuthenticator, **get: Any) -> Any:
    options = await client.post("/api/auth/passkey/second-factor/options")
    assert options.status_code == 200, options.text
    response = device.get(options.json(), **get)
    return await client.post("/api/auth/passkey/second-factor/verify", json={"response": response})


async def test_password_then_passkey_signs_in(app: Litestar, client: Client) -> None:
    email = await signed_in(client)
    device = authenticator()
    await register(client, device)
    await password_step(client, email)
    options = (await client.post("/api/auth/passkey/second-factor/options")).json()
    assert [c["id"] for c in options["allowCredentials"]] == [device.credentials[0].b64]
    answer = await client.post("/api/auth/passkey/second-factor/verify", json={"response": device.get(options)})
    assert answer.status_code == 200, answer.text
    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email
    assert "passkey.used" in [row.event for row in await audit_events(app)]


async def test_a_second_factor_needs_only_user_presence(client: Client) -> None:
    email = await signed_in(client)
    device = authenticator()
    await register(client, device)
    await password_step(client, email)
    answer = await passkey_step(client, device, flags=UP)
    assert answer.status_code == 200


async def test_passwordless_passkey_sign_in_is_not_challenged_again(client: Client) -> None:
    email = await signed_in(client)
    device = authenticator()
    await register(client, device)
    await client.post("/api/auth/sign-out")
    answer = await sign_in(client, device)
    assert answer.status_code == 200
    assert answer.json()["user"]["email"] == email


async def test_another_accounts_passkey_does_not_finish_the_sign_in(app: Litestar, client: Client) -> None:
    email = await signed_in(client)
    await register(client, authenticator())
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await signed_in(other)
        theirs = authenticator()
        await register(other, theirs)
    await password_step(client, email)
    answer = await passkey_step(client, theirs)
    assert answer.status_code == 401
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_replayed_second_factor_assertion_is_refused(client: Client) -> None:
    email = await signed_in(client)
    device = authenticator()
    await register(client, device)
    await password_step(client, email)
    options = (await client.post("/api/auth/passkey/second-factor/options")).json()
    assertion = device.get(options)
    assert (
        await client.post("/api/auth/passkey/second-factor/verify", json={"response": assertion})
    ).status_code == 200
    await password_step(client, email)
    again = await client.post("/api/auth/passkey/second-factor/verify", json={"response": assertion})
    assert again.status_code in (400, 401)
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_without_a_pending_sign_in_nothing_is_offered(client: Client) -> None:
    answer = await client.post("/api/auth/passkey/second-factor/options")
    assert answer.status_code in (400, 401)
    assert answer.json()["message"]
