"""Magic link: emailed, single use, short-lived, rate limited, and indistinguishable for unknown addresses."""

from __future__ import annotations

from litestar import Litestar
from sqlalchemy import update

from app.auth.models import Verification
from app.core.db import utcnow
from app.core.events import RequestMeta
from tests.conftest import Client, Inbox, sign_up_api, unique_email


async def request_link(client: Client, email: str) -> int:
    response = await client.submit("/magic-link", {"email": email})
    return int(response.status_code)


async def test_link_signs_in_once(client: Client, inbox: Inbox) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    assert await request_link(client, email) == 200
    mail = await inbox.last(email)
    assert "sign-in link" in mail.subject.lower()
    path = mail.link("/magic-link/verify").replace(str(client.base_url).rstrip("/"), "")
    confirm = await client.get(path)
    assert confirm.status_code == 200
    assert (await client.get("/api/auth/get-session")).json() is None  # opening the link alone signs nobody in
    token = path.split("token=")[1]
    done = await client.submit("/magic-link/verify", {"token": token}, page=path)
    assert done.status_code == 303
    session = (await client.get("/api/auth/get-session")).json()
    assert session["user"]["email"] == email and session["user"]["emailVerified"] is True
    await client.post("/api/auth/sign-out")
    again = await client.submit("/magic-link/verify", {"token": token}, page=path)
    assert again.status_code == 400
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_expired_link_is_refused(client: Client, app: Litestar, inbox: Inbox) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    await client.post("/api/auth/sign-in/magic-link", json={"email": email})
    token = (await inbox.last(email)).link("/magic-link/verify").split("token=")[1]
    async with app.state.db.sessions() as db:
        await db.exec(update(Verification).values(expires_at=utcnow()))
        await db.commit()
    response = await client.get(f"/api/auth/magic-link/verify?token={token}")
    assert response.status_code == 400 and response.json()["code"] == "INVALID_TOKEN"


async def test_api_verify_sets_the_cookie_and_redirects_only_to_safe_targets(client: Client, inbox: Inbox) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    await client.post("/api/auth/sign-in/magic-link", json={"email": email, "callbackURL": "https://evil.example/"})
    link = (await inbox.last(email)).link("/magic-link/verify")
    assert "evil" not in link
    token = link.split("token=")[1].split("&")[0]
    response = await client.get(f"/api/auth/magic-link/verify?token={token}&callbackURL=//evil.example")
    assert response.status_code == 200
    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email


async def test_unknown_address_gets_the_same_answer(client: Client, inbox: Inbox) -> None:
    known = unique_email()
    await sign_up_api(client, known)
    unknown = unique_email()
    a = await client.post("/api/auth/sign-in/magic-link", json={"email": known})
    b = await client.post("/api/auth/sign-in/magic-link", json={"email": unknown})
    assert a.status_code == b.status_code == 200 and a.json() == b.json() == {"status": True}
    assert "/magic-link/verify" not in (await inbox.last(unknown)).text


async def test_links_are_rate_limited_per_address(client: Client) -> None:
    email = unique_email()
    codes = [(await client.post("/api/auth/sign-in/magic-link", json={"email": email})).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


async def test_a_banned_user_cannot_sign_in_by_link(client: Client, app: Litestar, inbox: Inbox) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    await client.post("/api/auth/sign-in/magic-link", json={"email": email})
    token = (await inbox.last(email)).link("/magic-link/verify").split("token=")[1].split("&")[0]
    async with app.state.db.sessions() as db:
        user = await app.state.auth.user_by_email(db, email)
        await app.state.auth.ban_user(db, RequestMeta(), user, "abuse")
    response = await client.get(f"/api/auth/magic-link/verify?token={token}")
    assert response.status_code == 403 and response.json()["code"] == "BANNED_USER"
    assert (await client.get("/api/auth/get-session")).json() is None
