"""The challenge page as a browser sees it: htmx redirects, wrong codes inline, the end of a challenge, cancel."""

from __future__ import annotations

from tests.conftest import STRONG_PASSWORD, Client, signed_in
from tests.features.two_factor.helpers import code, enable_two_factor

CHALLENGE = "/sign-in/second-factor"


async def _challenged(client: Client) -> str:
    email = await signed_in(client)
    secret, _ = await enable_two_factor(client)
    await client.post("/api/auth/sign-out")
    client.cookies.clear()
    started = await client.submit("/sign-in", {"email": email, "password": STRONG_PASSWORD})
    assert started.status_code == 303 and started.headers["location"] == CHALLENGE
    return secret


async def test_htmx_sign_in_is_sent_to_the_challenge(client: Client) -> None:
    email = await signed_in(client)
    await enable_two_factor(client)
    await client.post("/api/auth/sign-out")
    client.cookies.clear()
    token = await client.csrf("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"email": email, "password": STRONG_PASSWORD, "next": "/account", "_csrf_token": token},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 200 and response.headers["hx-redirect"] == f"{CHALLENGE}?next=%2Faccount"
    assert "pending_sign_in" in client.cookies and "session" not in client.cookies


async def test_wrong_code_is_shown_inline_and_five_end_the_challenge(client: Client) -> None:
    secret = await _challenged(client)
    wrong = "000000" if code(secret) != "000000" else "111111"
    first = await client.submit("/sign-in/two-factor/totp", {"code": wrong, "trust_device": "on"}, page=CHALLENGE)
    assert first.status_code == 422
    assert "That code is not correct. 4 attempts left." in first.text
    assert 'name="trust_device" value="on" checked' in first.text  # the choice is kept
    for _ in range(3):
        await client.submit("/sign-in/two-factor/totp", {"code": wrong}, page=CHALLENGE)
    last = await client.submit("/sign-in/two-factor/totp", {"code": wrong}, page=CHALLENGE)
    assert last.status_code == 303 and last.headers["location"] == "/sign-in"
    signed_out = await client.get("/sign-in")
    assert "Too many wrong codes. Sign in again." in signed_out.text
    assert (await client.get(CHALLENGE)).status_code == 303
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_wrong_recovery_code_is_shown_inline(client: Client) -> None:
    await _challenged(client)
    response = await client.submit("/sign-in/two-factor/recovery-code", {"code": "aaaa-bbbb-cccc"}, page=CHALLENGE)
    assert response.status_code == 422
    assert "That recovery code is not correct. 4 attempts left." in response.text
    assert '<details class="two-factor__recovery" open>' in response.text


async def test_cancel_ends_the_pending_sign_in(client: Client) -> None:
    secret = await _challenged(client)
    cancelled = await client.submit("/sign-in/second-factor/cancel", {}, page=CHALLENGE)
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/sign-in"
    assert "pending_sign_in" not in client.cookies
    late = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
    assert late.status_code == 401 and late.json()["code"] == "INVALID_TWO_FACTOR_COOKIE"


async def test_challenge_without_a_pending_sign_in(client: Client) -> None:
    page = await client.get(CHALLENGE)
    assert page.status_code == 303 and page.headers["location"] == "/sign-in"
    submitted = await client.submit("/sign-in/two-factor/totp", {"code": "123456"}, page="/sign-in")
    assert submitted.status_code == 303 and submitted.headers["location"] == "/sign-in"
    backup = await client.post("/api/auth/two-factor/verify-backup-code", json={"code": "aaaa-bbbb-cccc"})
    assert backup.status_code == 401
