"""The JSON API's core flows, with Better Auth's paths and shapes."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from app.auth.models import Session, User
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, Inbox, sign_up_api, signed_in, unique_email


async def test_sign_up_sign_in_get_session_sign_out(client: Client) -> None:
    email = unique_email()
    response = await sign_up_api(client, email)
    assert response.status_code == 200
    body = response.json()
    assert body["token"] is None
    assert body["user"]["email"] == email
    assert body["user"]["emailVerified"] is False
    assert "session" not in client.cookies

    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert response.json()["user"]["email"] == email
    assert response.json()["token"] is None  # the secret stays in the HttpOnly cookie

    session = (await client.get("/api/auth/get-session")).json()
    assert session["user"]["email"] == email
    assert session["session"]["userId"] == session["user"]["id"]
    assert session["session"]["token"] == session["session"]["id"]  # a public handle, not the secret
    assert session["session"]["token"] != client.cookies["session"]
    assert session["session"]["expiresAt"].endswith("Z") and len(session["session"]["expiresAt"]) == 24  # ms, UTC

    response = await client.post("/api/auth/sign-out")
    assert response.json() == {"success": True}
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_email_is_normalised_and_case_insensitive(client: Client) -> None:
    email = unique_email()
    await sign_up_api(client, email.upper())
    response = await client.post(
        "/api/auth/sign-in/email", json={"email": f"  {email.title()} ", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["user"]["email"] == email


async def test_wrong_password_and_unknown_email_get_the_same_answer(client: Client) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    wrong = await client.post("/api/auth/sign-in/email", json={"email": email, "password": "not the password 1"})
    unknown = await client.post(
        "/api/auth/sign-in/email", json={"email": unique_email(), "password": "not the password 1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json() == unknown.json() == {"code": "INVALID_EMAIL_OR_PASSWORD", "message": "Invalid email or password."}
    )


async def test_session_token_is_stored_only_as_its_sha256(client: Client, app: object) -> None:
    await signed_in(client)
    token = client.cookies["session"]
    async with app.state.db.sessions() as db:  # type: ignore[attr-defined]
        rows = (await db.exec(select(Session))).all()
    assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert len(token) >= 43  # 256 bits in URL-safe base64


async def test_sign_in_replaces_the_previous_session(client: Client, app: object) -> None:
    email = await signed_in(client)
    first = client.cookies["session"]
    response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200
    second = client.cookies["session"]
    assert first != second
    async with app.state.db.sessions() as db:  # type: ignore[attr-defined]
        assert len((await db.exec(select(Session))).all()) == 1
    client.cookies["session"] = first
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_unauthenticated_api_calls_get_401_json(client: Client) -> None:
    for path, body in [
        ("/api/auth/change-password", {"newPassword": "x" * 10, "currentPassword": "y" * 10}),
        ("/api/auth/update-user", {"name": "X"}),
        ("/api/auth/delete-user", {}),
    ]:
        response = await client.post(path, json=body)
        assert response.status_code == 401
        assert response.json()["code"] == "UNAUTHORIZED"


async def test_update_user_changes_the_name(client: Client) -> None:
    await signed_in(client)
    response = await client.post("/api/auth/update-user", json={"name": "  Grace   Hopper "})
    assert response.json() == {"status": True}
    assert (await client.get("/api/auth/get-session")).json()["user"]["name"] == "Grace Hopper"
    bad = await client.post("/api/auth/update-user", json={"name": "x" * 101})
    assert bad.status_code == 400
    assert bad.json()["code"] == "VALIDATION_ERROR"


async def test_verification_link_verifies_once(client: Client, inbox: Inbox) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    mail = await inbox.last(email)
    assert "verify" in mail.subject.lower()
    link = mail.link("/verify-email")
    token = link.split("token=")[1].split("&")[0]
    first = await client.get(f"/api/auth/verify-email?token={token}")
    assert first.status_code == 200
    assert first.json()["user"]["emailVerified"] is True
    again = await client.get(f"/api/auth/verify-email?token={token}")
    assert again.status_code == 400
    assert again.json()["code"] == "INVALID_TOKEN"


async def test_malformed_json_is_a_clean_400(client: Client) -> None:
    for body in [b"{", b"[]", b'{"email": 5}', b"null"]:
        response = await client.post(
            "/api/auth/sign-in/email", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, body
        assert set(response.json()) == {"code", "message"}
        assert "Traceback" not in response.text


async def test_invalid_email_is_refused(client: Client) -> None:
    response = await client.post(
        "/api/auth/sign-up/email", json={"name": "A", "email": "not-an-email", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_unverified_user_cannot_sign_in_when_the_setting_is_off(make_app: AppFactory) -> None:
    app = make_app(auth={"allow_unverified_sign_in": False})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        email = unique_email()
        await sign_up_api(client, email)
        response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 403
        assert response.json()["code"] == "EMAIL_NOT_VERIFIED"
        async with app.state.db.sessions() as db:
            user = (await db.exec(select(User).where(User.email == email))).one()
            assert user.email_verified is False
        await app.state.mailer.drain()
