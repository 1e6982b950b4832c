"""The sign-in challenge: no session before the second factor, single-use codes, limits, parallel submissions."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from sqlmodel import select

from app.core.audit import AuditLog
from tests.conftest import BASE_URL, AppFactory, Client, signed_in
from tests.features.two_factor.helpers import (
    code,
    enable_two_factor,
    expire_pending,
    password_sign_in,
    session_count,
)


async def _enrolled(client: Client) -> tuple[str, str, list[str]]:
    email = await signed_in(client)
    secret, codes = await enable_two_factor(client)
    await client.post("/api/auth/sign-out")
    client.cookies.clear()
    return email, secret, codes


async def test_password_then_totp_json(client: Client, app: Litestar) -> None:
    email, secret, _ = await _enrolled(client)
    first = await password_sign_in(client, email)
    assert first.status_code == 200 and first.json()["twoFactorRedirect"] is True
    assert "session" not in client.cookies and "pending_sign_in" in client.cookies
    # The pending cookie is not a session: protected routes stay closed.
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await client.get("/api/auth/list-sessions")).status_code == 401
    assert (await client.get("/account/security")).status_code == 303
    assert await session_count(app, email) == 0
    done = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
    assert done.status_code == 200, done.text
    assert done.json()["user"]["email"] == email
    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email
    assert await session_count(app, email) == 1
    async with app.state.db.sessions() as db:
        events = [row.event for row in (await db.exec(select(AuditLog))).all()]
    assert "two_factor.enabled" in events and "two_factor.used" in events
    assert "session.second_factor_required" in events


async def test_password_then_totp_html(client: Client) -> None:
    email, secret, _ = await _enrolled(client)
    page = await client.submit(
        "/sign-in", {"email": email, "password": "correct horse battery staple 42", "next": "/account"}
    )
    assert page.status_code == 303 and page.headers["location"] == "/sign-in/second-factor?next=%2Faccount"
    challenge = await client.get(page.headers["location"])
    assert challenge.status_code == 200 and "Code from your authenticator app" in challenge.text
    assert "Use a recovery code" in challenge.text
    done = await client.submit(
        "/sign-in/two-factor/totp", {"code": code(secret), "next": "/account"}, page=page.headers["location"]
    )
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert (await client.get("/account")).status_code == 200
    assert "pending_sign_in" not in client.cookies


async def test_code_cannot_be_used_twice(client: Client) -> None:
    email, secret, _ = await _enrolled(client)
    await password_sign_in(client, email)
    assert (await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})).status_code == 200
    await client.post("/api/auth/sign-out")
    client.cookies.clear()
    await password_sign_in(client, email)
    reused = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
    assert reused.status_code == 401 and reused.json()["code"] == "INVALID_CODE"
    # An older step than the last one used is refused too; the next step still works.
    older = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret, -1)})
    assert older.status_code == 401
    assert (await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret, 1)})).status_code == 200


async def test_codes_outside_one_step_are_refused(client: Client) -> None:
    email, secret, _ = await _enrolled(client)
    await password_sign_in(client, email)
    for steps in (3, -3):
        far = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret, steps)})
        assert far.status_code == 401 and far.json()["code"] == "INVALID_CODE"


async def test_five_wrong_codes_end_the_challenge(client: Client, app: Litestar) -> None:
    email, secret, _ = await _enrolled(client)
    await password_sign_in(client, email)
    wrong = "000000" if code(secret) != "000000" else "111111"
    messages = []
    for _ in range(5):
        response = await client.post("/api/auth/two-factor/verify-totp", json={"code": wrong})
        assert response.status_code == 401
        messages.append(response.json())
    assert messages[0]["message"].endswith("4 attempts left.")
    assert messages[-1]["code"] == "INVALID_TWO_FACTOR_COOKIE"
    late = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
    assert late.status_code == 401 and late.json()["code"] == "INVALID_TWO_FACTOR_COOKIE"
    assert (await client.get("/api/auth/get-session")).json() is None
    async with app.state.db.sessions() as db:
        failures = [row for row in (await db.exec(select(AuditLog))).all() if row.event == "two_factor.failed"]
    assert len(failures) == 5 and all(row.data["factor"] == "totp" for row in failures)


async def test_wrong_codes_spend_the_failed_sign_in_budget(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"failed_sign_in_budget": 3})
    async with Client(app=app) as client:
        client.headers["origin"] = BASE_URL
        email, secret, _ = await _enrolled(client)
        await password_sign_in(client, email)
        for _ in range(3):
            await client.post("/api/auth/two-factor/verify-totp", json={"code": "000001"})
        # The account is locked for a while: neither the password nor a right code gets through.
        blocked = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
        assert blocked.status_code == 429
        again = await password_sign_in(client, email)
        assert again.status_code == 429


async def test_parallel_wrong_codes_get_no_more_tries_than_the_budget(make_app: AppFactory) -> None:
    """Each code spends its unit of the account's budget before it is checked, even six at once."""
    app = make_app(rate_limit={"failed_sign_in_budget": 3})
    async with Client(app=app) as client:
        client.headers["origin"] = BASE_URL
        email, secret, _ = await _enrolled(client)
        for _ in range(4):  # right passwords stopped at the second step spend nothing
            assert (await password_sign_in(client, email)).status_code == 200
        wrong = "000000" if code(secret) != "000000" else "111111"
        answers = await asyncio.gather(
            *(client.post("/api/auth/two-factor/verify-totp", json={"code": wrong}) for _ in range(6))
        )
        assert sorted(answer.status_code for answer in answers) == [401, 401, 401, 429, 429, 429]
        blocked = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
        assert blocked.status_code == 429
        assert (await client.get("/api/auth/get-session")).json() is None


async def test_digits_of_other_scripts_are_a_wrong_code_not_a_500(client: Client) -> None:
    """ "١٢٣٤٥٦" passes str.isdigit, then hmac.compare_digest refuses non-ASCII text with a TypeError."""
    email, _, _ = await _enrolled(client)
    await password_sign_in(client, email)
    for code_text in ("\u0661\u0662\u0663\u0664\u0665\u0666", "\uff11\uff12\uff13\uff14\uff15\uff16"):
        response = await client.post("/api/auth/two-factor/verify-totp", json={"code": code_text})
        assert response.status_code == 401 and "not correct" in response.json()["message"]


async def test_expired_challenge(client: Client, app: Litestar) -> None:
    email, secret, _ = await _enrolled(client)
    await password_sign_in(client, email)
    await expire_pending(app)
    late = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})
    assert late.status_code == 401 and late.json()["code"] == "INVALID_TWO_FACTOR_COOKIE"
    page = await client.get("/sign-in/second-factor")
    assert page.status_code == 303 and page.headers["location"] == "/sign-in"


async def test_replayed_pending_cookie_gives_no_session(client: Client, app: Litestar) -> None:
    email, secret, _ = await _enrolled(client)
    await password_sign_in(client, email)
    pending = client.cookies["pending_sign_in"]
    # Presented as a session cookie or a bearer token, the pending token is nobody.
    async with Client(app=app) as other:
        other.cookies.set("session", pending)
        assert (await other.get("/api/auth/get-session")).json() is None
        bearer = await other.get("/api/auth/get-session", headers={"authorization": f"Bearer {pending}"})
        assert bearer.json() is None
    assert (await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret)})).status_code == 200
    # Once used, replaying it (in another browser) finishes nothing.
    async with Client(app=app) as thief:
        thief.headers["origin"] = BASE_URL
        thief.cookies.set("pending_sign_in", pending)
        replay = await thief.post("/api/auth/two-factor/verify-totp", json={"code": code(secret, 1)})
        assert replay.status_code == 401 and replay.json()["code"] == "INVALID_TWO_FACTOR_COOKIE"
        assert (await thief.get("/api/auth/get-session")).json() is None


async def test_twenty_parallel_submissions_make_one_session(client: Client, app: Litestar) -> None:
    email, secret, _ = await _enrolled(client)
    await password_sign_in(client, email)
    pending = client.cookies["pending_sign_in"]
    valid = code(secret)

    async def submit() -> int:
        async with Client(app=app) as browser:
            browser.headers["origin"] = BASE_URL
            browser.cookies.set("pending_sign_in", pending)
            response = await browser.post("/api/auth/two-factor/verify-totp", json={"code": valid})
            return response.status_code

    statuses = await asyncio.gather(*(submit() for _ in range(20)))
    assert statuses.count(200) == 1, statuses
    # The others are refused: the step is spent (401), or the account's budget is, since every
    # submission spends a unit of it before its code is checked (429, with the default 10).
    assert set(statuses) <= {200, 401, 429} and statuses.count(429) <= 10, statuses
    assert await session_count(app, email) == 1


async def test_recovery_code_works_once(client: Client) -> None:
    email, _, codes = await _enrolled(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    await password_sign_in(client, email)
    used = await client.post("/api/auth/two-factor/verify-backup-code", json={"code": codes[0].upper()})
    assert used.status_code == 200, used.text
    await client.post("/api/auth/sign-out")
    client.cookies.clear()
    await password_sign_in(client, email)
    again = await client.post("/api/auth/two-factor/verify-backup-code", json={"code": codes[0]})
    assert again.status_code == 401
    assert (await client.post("/api/auth/two-factor/verify-backup-code", json={"code": codes[1]})).status_code == 200


async def test_trusted_browser_skips_the_challenge_until_revoked(client: Client) -> None:
    email, secret, _ = await _enrolled(client)
    await password_sign_in(client, email)
    done = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret), "trustDevice": True})
    assert done.status_code == 200 and "trusted_device" in client.cookies
    await client.post("/api/auth/sign-out")
    direct = await password_sign_in(client, email)
    assert "twoFactorRedirect" not in direct.json() and direct.json()["user"]["email"] == email
    security = await client.get("/account/security")
    assert "Trusted browsers" in security.text and "This browser" in security.text
    revoked = await client.submit("/account/trusted-devices/revoke", {"device": "all"}, page="/account/security")
    assert revoked.status_code == 303
    await client.post("/api/auth/sign-out")
    assert (await password_sign_in(client, email)).json()["twoFactorRedirect"] is True
    # A forged trust cookie counts for nothing.
    client.cookies.set("trusted_device", "forged.value")
    assert (await password_sign_in(client, email)).json()["twoFactorRedirect"] is True
