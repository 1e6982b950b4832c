"""Shared steps of the two-factor tests: turn it on over the JSON API, compute codes with pyotp, read tables."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
from litestar import Litestar
from sqlalchemy import func, update
from sqlmodel import select

from app.auth.models import PendingSignIn, Session, User
from app.core.db import utcnow
from tests.conftest import STRONG_PASSWORD, Client

STEP = 30


def code(secret: str, steps_from_now: int = 0) -> str:
    """The TOTP code of a time step relative to now, as an authenticator app shows it."""
    return pyotp.TOTP(secret).at(time.time() + steps_from_now * STEP)


async def enable_two_factor(client: Client) -> tuple[str, list[str]]:
    """Turn 2FA on for the client's signed-in user (confirmed with the previous step's code)."""
    response = await client.post("/api/auth/two-factor/enable", json={"password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    secret = parse_qs(urlsplit(body["totpURI"]).query)["secret"][0]
    confirmed = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret, -1)})
    assert confirmed.status_code == 200, confirmed.text
    return secret, body["backupCodes"]


async def password_sign_in(client: Client, email: str) -> Any:
    """The JSON password sign-in; with 2FA on it answers {"twoFactorRedirect": true}."""
    return await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})


async def session_count(app: Litestar, email: str) -> int:
    async with app.state.db.sessions() as db:
        user = (await db.exec(select(User).where(User.email == email))).one()
        query = select(func.count()).select_from(Session).where(Session.user_id == user.id)
        return int((await db.exec(query)).one())


async def expire_pending(app: Litestar) -> None:
    async with app.state.db.sessions() as db:
        await db.exec(update(PendingSignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()


async def age_sessions(app: Litestar, minutes: int = 60) -> None:
    """Make every session's sign-in older, so sensitive actions need re-authentication."""
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
        await db.commit()
