"""An OAuth sign-in goes through the second factor like every other first factor (pruned with either feature)."""

from __future__ import annotations

import uuid

from litestar import Litestar

from app.auth.models import Session
from tests.conftest import Client, signed_in
from tests.features.oauth.conftest import approve, sign_in_with_provider
from tests.features.oauth.provider import OIDCProvider
from tests.features.two_factor.helpers import code, enable_two_factor, session_count


async def test_oauth_sign_in_asks_for_the_second_factor(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    email = await signed_in(client)
    secret, _ = await enable_two_factor(client)
    linked = await client.post("/api/auth/link-social", json={"provider": "oidc"})
    assert (await client.get(await approve(linked.json()["url"]))).status_code == 303
    await client.post("/api/auth/sign-out")
    sessions_before = await session_count(app, email)

    callback = await sign_in_with_provider(client)
    # The provider vouched for the user, but no session exists until the second factor passes.
    assert callback.status_code == 303 and callback.headers["location"].startswith("/sign-in/second-factor")
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await client.get("/account")).status_code == 303
    assert await session_count(app, email) == sessions_before

    done = await client.post("/api/auth/two-factor/verify-totp", json={"code": code(secret, 1)})
    assert done.status_code == 200, done.text
    session = (await client.get("/api/auth/get-session")).json()
    assert session["user"]["email"] == email
    async with app.state.db.sessions() as db:
        row = await db.get(Session, uuid.UUID(session["session"]["id"]))
    assert row is not None and row.sign_in_method == "oauth:oidc"
