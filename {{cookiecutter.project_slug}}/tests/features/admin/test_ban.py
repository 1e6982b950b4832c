"""A ban from the console holds on every way in: sessions, passwords, emailed links, API keys, bearer tokens."""

from __future__ import annotations

import uuid

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col

from app.auth.models import User
from tests.conftest import BASE_URL, STRONG_PASSWORD, Client, Inbox
from tests.features.admin.conftest import People


async def test_a_banned_user_is_refused_on_every_sign_in_path(app: Litestar, people: People, inbox: Inbox) -> None:
    admin = await people("admin")
    target = await people()
    # Verified: a link to an unverified sign-up would first take the account from whoever made it.
    async with app.state.db.sessions() as db:
        await db.exec(update(User).where(col(User.id) == uuid.UUID(target.id)).values(email_verified=True))
        await db.commit()
    key = None
    if "api_keys" in app.state.features:
        created = await target.client.post("/api/auth/api-key/create", json={"name": "CI", "scopes": ["read"]})
        key = created.json()["key"]
    async with Client(app=app, base_url=BASE_URL) as phone:  # a bearer client (no cookies)
        phone.headers["x-return-token"] = "true"
        phone.headers["origin"] = BASE_URL
        token = (
            await phone.post("/api/auth/sign-in/email", json={"email": target.email, "password": STRONG_PASSWORD})
        ).json()["token"]
    if "magic_link" in app.state.features:
        await target.client.post("/api/auth/sign-in/magic-link", json={"email": target.email})
        link = (await inbox.last(target.email)).link("/magic-link/verify")
        link_token = link.split("token=")[1].split("&")[0]

    banned = await admin.api("ban-user", {"userId": target.id, "banReason": "abuse"})
    assert banned.status_code == 200, banned.text

    assert (await target.client.get("/api/auth/get-session")).json() is None
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        api = await other.post("/api/auth/sign-in/email", json={"email": target.email, "password": STRONG_PASSWORD})
        assert api.status_code == 403 and api.json()["code"] == "BANNED_USER"
        page = await other.submit("/sign-in", {"email": target.email, "password": STRONG_PASSWORD})
        assert page.status_code == 422 and "This account is suspended" in page.text
        bearer = await other.get("/api/auth/get-session", headers={"authorization": f"Bearer {token}"})
        assert bearer.json() is None
        if "magic_link" in app.state.features:
            by_link = await other.get(f"/api/auth/magic-link/verify?token={link_token}")
            assert by_link.status_code == 403 and by_link.json()["code"] == "BANNED_USER"
        if key is not None:
            refused = await other.get("/api/me", headers={"x-api-key": key, "origin": ""})
            assert refused.status_code == 401 and refused.json()["code"] == "INVALID_API_KEY"

    await admin.api("unban-user", {"userId": target.id})
    async with Client(app=app, base_url=BASE_URL) as again:
        again.headers["origin"] = BASE_URL
        back = await again.post("/api/auth/sign-in/email", json={"email": target.email, "password": STRONG_PASSWORD})
        assert back.status_code == 200, back.text
