"""The magic link is a first factor like the password: with 2FA on it leads to the challenge, not a session."""

from __future__ import annotations

from tests.conftest import Client, Inbox, signed_in
from tests.features.two_factor.helpers import code, enable_two_factor


async def _link(client: Client, inbox: Inbox, email: str) -> str:
    await client.post("/api/auth/sign-in/magic-link", json={"email": email})
    url: str = (await inbox.last(email)).link("/magic-link/verify")
    return url.replace(str(client.base_url).rstrip("/"), "")


async def test_magic_link_html_needs_the_second_factor(client: Client, inbox: Inbox) -> None:
    email = await signed_in(client)
    secret, _ = await enable_two_factor(client)
    await client.post("/api/auth/sign-out")
    client.cookies.clear()
    path = await _link(client, inbox, email)
    token = path.split("token=")[1].split("&")[0]
    done = await client.submit("/magic-link/verify", {"token": token}, page=path)
    assert done.status_code == 303 and done.headers["location"].startswith("/sign-in/second-factor")
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await client.get("/account")).status_code == 303
    finished = await client.submit("/sign-in/two-factor/totp", {"code": code(secret)}, page=done.headers["location"])
    assert finished.status_code == 303 and finished.headers["location"] == "/"
    assert (await client.get("/api/auth/get-session")).json()["session"]["userId"]


async def test_magic_link_json_needs_the_second_factor(client: Client, inbox: Inbox) -> None:
    email = await signed_in(client)
    secret, _ = await enable_two_factor(client)
    await client.post("/api/auth/sign-out")
    client.cookies.clear()
    path = await _link(client, inbox, email)
    token = path.split("token=")[1].split("&")[0]
    response = await client.get(f"/api/auth/magic-link/verify?token={token}")
    assert response.status_code == 200 and response.json()["twoFactorRedirect"] is True
    assert (await client.get("/api/auth/get-session")).json() is None
    done = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
    assert done.status_code == 200
    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email
