"""The core's second-factor gate on its own, with a factor defined here (any feature's factor plugs in the same way).

Every first factor ends in `AuthKit.open_session`; with a factor enrolled it opens no session
but a pending sign-in that only `finish_second_factor` turns into one, once.
"""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from sqlalchemy import ColumnElement, false, or_
from sqlmodel import select

from app.auth.kit import Challenge, SignInResult
from app.auth.models import User
from app.auth.second_factor import InvalidSecondFactor, SecondFactorExpired
from app.core.events import RequestMeta
from tests.conftest import STRONG_PASSWORD, Client, sign_up_api, unique_email


class EnrolledFor:
    """A second factor that the given users have (what a TOTP or passkey feature reports)."""

    name = "test_factor"
    label = "Test factor"
    template = "components/second_factor.html"

    def offered(self, settings: object) -> bool:
        return True

    def __init__(self, *user_ids: str) -> None:
        self.user_ids = [uuid.UUID(user_id) for user_id in user_ids]

    def enrolled_when(self, user_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
        return or_(false(), *(user_id == enrolled for enrolled in self.user_ids))


async def _user_with_factor(client: Client, app: Litestar) -> tuple[str, EnrolledFor]:
    email = unique_email()
    user = (await sign_up_api(client, email)).json()["user"]
    factor = EnrolledFor(user["id"])
    app.state.auth.gate.factors.append(factor)
    return email, factor


async def test_no_factor_no_challenge(client: Client) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert response.json()["user"]["email"] == email and "session" in client.cookies


async def test_gate_holds_until_the_factor_finishes_once(client: Client, app: Litestar) -> None:
    email, _ = await _user_with_factor(client, app)
    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert response.json() == {"twoFactorRedirect": True, "twoFactorMethods": ["test_factor"]}
    assert "session" not in client.cookies
    pending = client.cookies["pending_sign_in"]
    assert (await client.get("/api/auth/get-session")).json() is None
    page = await client.get("/sign-in/second-factor")
    assert page.status_code == 200 and "Two-step verification" in page.text
    auth = app.state.auth
    async with app.state.db.sessions() as db:
        assert (await auth.pending_second_factor(db, pending)) is not None
        result = await auth.finish_second_factor(db, RequestMeta(), pending, "test_factor")
    client.cookies.set("session", result.token)
    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email
    async with app.state.db.sessions() as db:
        with pytest.raises(SecondFactorExpired):  # used up: it never opens a second session
            await auth.finish_second_factor(db, RequestMeta(), pending, "test_factor")


async def test_every_first_factor_meets_the_gate(client: Client, app: Litestar) -> None:
    """The password sign-in reads the enrolment with the user; any other path (magic link, OAuth,
    passkey) calls open_session with the user alone, and the gate reads it there."""
    email, _ = await _user_with_factor(client, app)
    other = unique_email()
    other_id = (await sign_up_api(client, other)).json()["user"]["id"]
    auth = app.state.auth
    async with app.state.db.sessions() as db:
        user = await db.get(User, uuid.UUID(other_id))
        assert user is not None and await auth.gate.enrolled(db, user.id) == []
        opened = await auth.open_session(db, RequestMeta(), user, "magic_link", True)
        assert isinstance(opened, SignInResult) and opened.user.email == other
    async with app.state.db.sessions() as db:
        user = (await db.exec(select(User).where(User.email == email))).one()
        assert [factor.name for factor in await auth.gate.enrolled(db, user.id)] == ["test_factor"]
        required = await auth.open_session(db, RequestMeta(), user, "magic_link", True)
    assert isinstance(required, Challenge)
    assert required.factors == ["test_factor"] and required.token


async def test_a_wrong_password_says_nothing_of_an_enrolled_factor(client: Client, app: Litestar) -> None:
    email, _ = await _user_with_factor(client, app)
    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": "wrong " * 3})
    assert response.status_code == 401 and response.json()["code"] == "INVALID_EMAIL_OR_PASSWORD"
    assert "pending_sign_in" not in client.cookies and "session" not in client.cookies


async def test_failures_count_and_end_the_challenge(client: Client, app: Litestar) -> None:
    email, _ = await _user_with_factor(client, app)
    await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    pending = client.cookies["pending_sign_in"]
    auth = app.state.auth
    raised: list[str] = []
    for _ in range(5):
        async with app.state.db.sessions() as db:
            try:
                await auth.fail_second_factor(db, RequestMeta(), pending, "test_factor")
            except (InvalidSecondFactor, SecondFactorExpired) as error:
                raised.append(error.code)
    assert raised == ["INVALID_CODE"] * 4 + ["INVALID_TWO_FACTOR_COOKIE"]
    async with app.state.db.sessions() as db:
        assert await auth.pending_second_factor(db, pending) is None


async def test_changing_the_password_rotates_the_session_without_a_challenge(client: Client, app: Litestar) -> None:
    email = unique_email()
    user = (await sign_up_api(client, email)).json()["user"]
    await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    app.state.auth.gate.factors.append(EnrolledFor(user["id"]))
    changed = await client.post(
        "/api/auth/change-password",
        json={"currentPassword": STRONG_PASSWORD, "newPassword": "another long passphrase 77"},
    )
    assert changed.status_code == 200 and changed.json()["user"]["email"] == email
