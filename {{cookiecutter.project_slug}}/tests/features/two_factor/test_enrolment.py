"""Turning 2FA on and off, recovery codes: confirmation first, the seed sealed, fresh sessions for changes."""

from __future__ import annotations

import re

import pyotp
from litestar import Litestar
from sqlmodel import select

from app.core.audit import AuditLog
from app.features.two_factor.models import RecoveryCode, TwoFactor
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, signed_in
from tests.features.two_factor.helpers import age_sessions, code, enable_two_factor, password_sign_in

SECRET_RE = re.compile(r'data-secret="([A-Z2-7]+)"')


async def test_setup_page_confirms_before_switching_on(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    security = await client.get("/account/security")
    assert "Two-step verification" in security.text and "Set up an authenticator app" in security.text
    setup = await client.submit("/account/two-factor/setup", {}, page="/account/security")
    assert setup.status_code == 200
    assert "<svg" in setup.text and "<script" not in setup.text.split("</head>")[1].split("<script src")[0]
    secret = SECRET_RE.search(setup.text).group(1)  # type: ignore[union-attr]
    assert len(secret) >= 32  # 160 bits
    # Not on yet: a password sign-in elsewhere still gets a session straight away.
    async with Client(app=app) as other:
        other.headers["origin"] = str(client.base_url)
        assert "twoFactorRedirect" not in (await password_sign_in(other, email)).json()
    wrong = await client.submit("/account/two-factor/confirm", {"code": "123456"}, page="/account/two-factor/setup")
    assert wrong.status_code == 422 and "not correct" in wrong.text and secret in wrong.text
    done = await client.submit("/account/two-factor/confirm", {"code": code(secret)}, page="/account/two-factor/setup")
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", done.text)
    assert len(codes) == 10
    assert 'data-tf-download="recovery-codes"' in done.text
    async with app.state.db.sessions() as db:
        row = (await db.exec(select(TwoFactor))).one()
        assert row.enabled and secret not in row.secret and row.secret.startswith("v1.")
        hashes = [r.code_hash for r in (await db.exec(select(RecoveryCode))).all()]
        assert len(hashes) == 10 and not any(c in h for c in codes for h in hashes)
    assert "10 of 10 recovery codes left" in (await client.get("/account/security")).text
    assert pyotp.TOTP(secret).now()


async def test_regenerate_and_disable_need_a_fresh_session(client: Client, app: Litestar) -> None:
    await signed_in(client)
    _, old_codes = await enable_two_factor(client)
    await age_sessions(app)
    stale = await client.post("/api/auth/two-factor/generate-backup-codes", json={})
    assert stale.status_code == 403 and stale.json()["code"] == "SESSION_NOT_FRESH"
    page = await client.submit("/account/two-factor/recovery-codes", {}, page="/account/security")
    assert page.status_code == 303 and page.headers["location"].startswith("/reauthenticate")
    assert (await client.post("/api/auth/two-factor/disable", json={})).status_code == 403
    wrong_password = await client.post("/api/auth/two-factor/disable", json={"password": "not my password at all"})
    assert wrong_password.status_code == 400
    fresh = await client.post("/api/auth/two-factor/generate-backup-codes", json={"password": STRONG_PASSWORD})
    assert fresh.status_code == 200
    new_codes = fresh.json()["backupCodes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    async with app.state.db.sessions() as db:
        assert len((await db.exec(select(RecoveryCode))).all()) == 10  # the old set is gone
    off = await client.post("/api/auth/two-factor/disable", json={"password": STRONG_PASSWORD})
    assert off.status_code == 200
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(TwoFactor))).first() is None
        assert (await db.exec(select(RecoveryCode))).first() is None
        events = [row.event for row in (await db.exec(select(AuditLog))).all()]
    assert events.count("two_factor.recovery_codes_regenerated") == 1 and events.count("two_factor.disabled") == 1


async def test_bad_input_is_a_clear_error(client: Client) -> None:
    await signed_in(client)
    none_waiting = await client.post("/api/auth/two-factor/verify-totp", json={"code": "123456"})
    assert none_waiting.status_code == 400 and none_waiting.json()["code"] == "TWO_FACTOR_NOT_ENABLED"
    assert (await client.post("/api/auth/two-factor/verify-totp", json={"code": 5})).status_code == 400
    assert (await client.post("/api/auth/two-factor/verify-backup-code", json={"code": "x"})).status_code == 401
    assert (await client.post("/api/auth/two-factor/disable", json={})).status_code == 400


async def test_wrong_passwords_spend_the_account_budget(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"failed_sign_in_budget": 2})
    async with Client(app=app) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        await enable_two_factor(client)
        for _ in range(2):
            wrong = await client.post("/api/auth/two-factor/disable", json={"password": "a wrong guess, twice"})
            assert wrong.status_code == 400
        locked = await client.post("/api/auth/two-factor/disable", json={"password": STRONG_PASSWORD})
        assert locked.status_code == 429
