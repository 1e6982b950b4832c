"""Magic link: emailed, single use, short-lived, rate limited, and indistinguishable for unknown addresses."""

from __future__ import annotations

import pytest
from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.auth import flows
from app.auth.models import Verification
from app.core.audit import AuditLog
from app.core.db import utcnow
from app.core.events import RequestMeta
from tests.conftest import (
    STRONG_PASSWORD,
    Client,
    Inbox,
    answered_before_the_link,
    sign_up_api,
    signed_in,
    unique_email,
)
from tests.mailbox import Mailbox


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
        await flows.account.ban_user(app.state.auth, db, RequestMeta(), user, "abuse")
    response = await client.get(f"/api/auth/magic-link/verify?token={token}")
    assert response.status_code == 403 and response.json()["code"] == "BANNED_USER"
    assert (await client.get("/api/auth/get-session")).json() is None
    async with app.state.db.sessions() as db:  # the refused link changed nothing: the address is
        user = await app.state.auth.user_by_email(db, email)  # still unproven, the password still there
        assert user is not None and not user.email_verified
        assert await app.state.auth.credential(db, user.id) is not None


async def test_the_first_link_takes_an_unproven_sign_up_from_whoever_made_it(app: Litestar, inbox: Inbox) -> None:
    """Account pre-hijacking: a squatter signs up with the owner's address, then the owner uses a link."""
    email = unique_email()
    async with Client(app=app) as squatter, Client(app=app) as owner:
        squatter.headers["origin"] = owner.headers["origin"] = str(squatter.base_url).rstrip("/")
        await signed_in(squatter, email, "the squatter's own password 1")  # unverified sign-in: development
        assert (await squatter.get("/api/auth/get-session")).json()["user"]["emailVerified"] is False
        await owner.post("/api/auth/sign-in/magic-link", json={"email": email})
        token = (await inbox.last(email)).link("/magic-link/verify").split("token=")[1]
        assert (await owner.get(f"/api/auth/magic-link/verify?token={token}")).status_code == 200
        assert (await owner.get("/api/auth/get-session")).json()["user"]["emailVerified"] is True
        assert (await squatter.get("/api/auth/get-session")).json() is None  # the squatter's session went
        again = await squatter.post(
            "/api/auth/sign-in/email", json={"email": email, "password": "the squatter's own password 1"}
        )
        assert again.status_code == 401  # and so did the password
    async with app.state.db.sessions() as db:
        rows = (await db.exec(select(AuditLog).where(AuditLog.event == "user.email_verified"))).all()
    assert [row.data for row in rows if row.target_id and row.data.get("via")] == [
        {"via": "magic-link", "password_removed": True}
    ]


async def test_a_verified_account_keeps_its_password_and_sessions(client: Client, app: Litestar, inbox: Inbox) -> None:
    email = await signed_in(client)
    token = (await inbox.last(email)).link("/verify-email").split("token=")[1].split("&")[0]
    assert (await client.get(f"/api/auth/verify-email?token={token}")).json()["user"]["emailVerified"] is True
    async with Client(app=app) as other:
        other.headers["origin"] = str(other.base_url).rstrip("/")
        await other.post("/api/auth/sign-in/magic-link", json={"email": email})
        token = (await inbox.last(email)).link("/magic-link/verify").split("token=")[1]
        assert (await other.get(f"/api/auth/magic-link/verify?token={token}")).status_code == 200
    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email
    signing_in = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert signing_in.status_code == 200


async def test_a_link_planted_on_another_site_signs_nobody_in(client: Client, inbox: Inbox) -> None:
    """Login CSRF: the API link of the planter's account, opened from another site, only shows the button."""
    email = unique_email()
    await sign_up_api(client, email)
    await client.post("/api/auth/sign-in/magic-link", json={"email": email})
    token = (await inbox.last(email)).link("/magic-link/verify").split("token=")[1]
    path = f"/api/auth/magic-link/verify?token={token}&callbackURL=/account"
    for site in ("cross-site", "same-site"):
        planted = await client.get(path, headers={"sec-fetch-site": site})
        assert planted.status_code == 303, site
        assert planted.headers["location"] == f"/magic-link/verify?token={token}&next=%2Faccount"
        assert "session" not in client.cookies
    confirm = await client.get(planted.headers["location"])
    assert confirm.status_code == 200 and "session" not in client.cookies
    opened = await client.get(path, headers={"sec-fetch-site": "none"})  # from the mail app: signs in
    assert opened.status_code == 302 and opened.headers["location"] == "/account"
    assert (await client.get("/api/auth/get-session")).json()["user"]["email"] == email


async def test_the_answer_does_not_wait_for_the_link(
    client: Client, app: Litestar, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await answered_before_the_link(client, app, mailbox, monkeypatch, "/api/auth/sign-in/magic-link", "sign-in link")
