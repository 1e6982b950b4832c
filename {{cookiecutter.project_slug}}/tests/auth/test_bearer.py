"""Non-browser clients: the session token on request at sign-in, then `Authorization: Bearer <token>`."""

from __future__ import annotations

from litestar import Litestar

from tests.conftest import BASE_URL, STRONG_PASSWORD, Client, sign_up_api, unique_email

NEW_PASSWORD = "another long passphrase 77"


async def bearer_sign_in(app: Litestar, email: str) -> str:
    """Sign in like a script would (no cookie jar kept, no Origin), asking for the token."""
    async with Client(app=app, base_url=BASE_URL) as script:
        response = await script.post(
            "/api/auth/sign-in/email",
            json={"email": email, "password": STRONG_PASSWORD},
            headers={"x-return-token": "true"},
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    assert token and response.headers["set-auth-token"] == token
    assert "set-auth-token" in response.headers["access-control-expose-headers"]
    return token


async def test_sign_in_gives_the_token_only_when_asked(client: Client, app: Litestar) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    plain = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert plain.json()["token"] is None and "set-auth-token" not in plain.headers
    token = await bearer_sign_in(app, email)
    assert len(token) >= 43 and token != client.cookies["session"]


async def test_a_bearer_client_uses_the_api_without_cookies_origin_or_csrf(client: Client, app: Litestar) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    token = await bearer_sign_in(app, email)
    async with Client(app=app, base_url=BASE_URL) as script:
        script.headers["authorization"] = f"Bearer {token}"
        session = (await script.get("/api/auth/get-session")).json()
        assert session["user"]["email"] == email
        assert session["session"]["token"] == session["session"]["id"] != token
        assert [s["id"] for s in (await script.get("/api/auth/list-sessions")).json()] == [session["session"]["id"]]
        update = await script.post("/api/auth/update-user", json={"name": "Script Runner"})
        assert update.status_code == 200
        assert "set-cookie" not in (await script.get("/api/auth/get-session")).headers  # no cookie for a script
        assert not script.cookies


async def test_a_request_carrying_cookies_still_needs_its_origin(client: Client, app: Litestar) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    token = await bearer_sign_in(app, email)
    async with Client(app=app, base_url=BASE_URL) as browser_like:
        browser_like.cookies["unrelated"] = "1"
        response = await browser_like.post(
            "/api/auth/update-user", json={"name": "X"}, headers={"authorization": f"Bearer {token}"}
        )
        assert response.status_code == 403 and response.json()["code"] == "INVALID_ORIGIN"


async def test_a_revoked_bearer_token_fails_on_the_next_request(client: Client, app: Litestar) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    token = await bearer_sign_in(app, email)
    await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    async with Client(app=app, base_url=BASE_URL) as script:
        script.headers["authorization"] = f"Bearer {token}"
        target = (await script.get("/api/auth/get-session")).json()["session"]["id"]
        assert (await client.post("/api/auth/revoke-session", json={"token": target})).status_code == 200
        assert (await script.get("/api/auth/get-session")).json() is None
        assert (await script.get("/api/auth/list-sessions")).status_code == 401


async def test_a_bearer_client_changing_its_password_gets_the_rotated_token(client: Client, app: Litestar) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    token = await bearer_sign_in(app, email)
    async with Client(app=app, base_url=BASE_URL) as script:
        script.headers["authorization"] = f"Bearer {token}"
        response = await script.post(
            "/api/auth/change-password", json={"currentPassword": STRONG_PASSWORD, "newPassword": NEW_PASSWORD}
        )
        assert response.status_code == 200
        rotated = response.json()["token"]
        assert rotated and rotated != token and response.headers["set-auth-token"] == rotated
        assert (await script.get("/api/auth/get-session")).json() is None  # the old token is gone
        script.headers["authorization"] = f"Bearer {rotated}"
        assert (await script.get("/api/auth/get-session")).json()["user"]["email"] == email


async def test_garbage_bearer_tokens_are_simply_signed_out(client: Client) -> None:
    for value in ("Bearer ", "Bearer nope", "Bearer " + "x" * 500, "Basic abc"):
        response = await client.get("/api/auth/get-session", headers={"authorization": value})
        assert response.status_code == 200 and response.json() is None
