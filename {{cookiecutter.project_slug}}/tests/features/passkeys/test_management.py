"""Listing, renaming and removing passkeys, over the JSON API and on the security page."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from sqlalchemy import delete

from app.auth.models import Account
from tests.conftest import BASE_URL, Client, signed_in
from tests.features.passkeys.authenticator import UP, SoftAuthenticator
from tests.features.passkeys.helpers import (
    age_sessions,
    audit_events,
    authenticator,
    passkey_rows,
    register,
    sign_in,
)


async def drop_password(app: Litestar) -> None:
    """Make every user passwordless (as after a passkey-first sign-up)."""
    async with app.state.db.sessions() as db:
        await db.exec(delete(Account))
        await db.commit()


async def test_rename_and_delete_over_the_api(app: Litestar, client: Client) -> None:
    await signed_in(client)
    first = (await register(client, authenticator(), name="Phone")).json()
    second = (await register(client, authenticator(), name="Laptop")).json()
    renamed = await client.post("/api/auth/passkey/update-passkey", json={"id": first["id"], "name": "  Pixel  8 "})
    assert renamed.status_code == 200
    assert renamed.json()["passkey"]["name"] == "Pixel 8"
    for bad in ("", "   ", "x" * 101, "tab\tname\x07"):
        answer = await client.post("/api/auth/passkey/update-passkey", json={"id": first["id"], "name": bad})
        assert answer.status_code in (400, 422), bad
    removed = await client.post("/api/auth/passkey/delete-passkey", json={"id": second["id"]})
    assert removed.json() == {"status": True}
    assert [p["name"] for p in (await client.get("/api/auth/passkey/list-user-passkeys")).json()] == ["Pixel 8"]
    events = [row.event for row in await audit_events(app)]
    assert events == ["passkey.registered", "passkey.registered", "passkey.renamed", "passkey.removed"]


async def test_another_users_passkey_cannot_be_touched(app: Litestar, client: Client) -> None:
    await signed_in(client)
    mine = (await register(client, authenticator())).json()
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await signed_in(other)
        assert (await other.get("/api/auth/passkey/list-user-passkeys")).json() == []
        for path, body in (
            ("update-passkey", {"id": mine["id"], "name": "Mine now"}),
            ("delete-passkey", {"id": mine["id"]}),
            ("delete-passkey", {"id": "not-a-uuid"}),
        ):
            answer = await other.post(f"/api/auth/passkey/{path}", json=body)
            assert answer.status_code == 404
            assert answer.json()["code"] == "PASSKEY_NOT_FOUND"
    assert (await passkey_rows(app))[0].name == mine["name"]


async def test_deleting_needs_a_fresh_session(app: Litestar, client: Client) -> None:
    await signed_in(client)
    key = (await register(client, authenticator())).json()
    await age_sessions(app, minutes=60)
    answer = await client.post("/api/auth/passkey/delete-passkey", json={"id": key["id"]})
    assert answer.status_code == 403
    assert answer.json()["code"] == "SESSION_NOT_FRESH"
    assert len(await passkey_rows(app)) == 1


async def test_the_last_way_to_sign_in_cannot_be_removed(app: Litestar, client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    only = (await register(client, device)).json()
    await drop_password(app)
    answer = await client.post("/api/auth/passkey/delete-passkey", json={"id": only["id"]})
    assert answer.status_code == 409
    assert answer.json()["code"] == "LAST_SIGN_IN_METHOD"
    assert "only way to sign in" in answer.json()["message"]
    spare = (await register(client, authenticator())).json()
    assert (await client.post("/api/auth/passkey/delete-passkey", json={"id": only["id"]})).status_code == 200
    refused = await client.post("/api/auth/passkey/delete-passkey", json={"id": spare["id"]})
    assert refused.status_code == 409
    # The account still signs in with what is left.
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, device)).status_code == 401  # removed
    assert len(await passkey_rows(app)) == 1


async def test_security_page_lists_passkeys_with_forms(client: Client) -> None:
    await signed_in(client)
    await register(client, authenticator(), name="Work <laptop>")
    page = await client.get("/account/security")
    assert page.status_code == 200
    html = page.text
    assert 'id="passkeys-card"' in html
    assert "Work &lt;laptop&gt;" in html and "Work <laptop>" not in html
    assert "data-passkey-register" in html
    assert "/static/passkeys/passkeys.js" in html
    assert "<script>" not in html  # no inline script: the CSP stays strict


async def test_rename_and_remove_with_plain_forms(app: Litestar, client: Client) -> None:
    await signed_in(client)
    key = (await register(client, authenticator(), name="Old name")).json()
    await register(client, authenticator(), name="Spare")
    path = f"/account/passkeys/{key['id']}"
    renamed = await client.submit(f"{path}/rename", {"name": "New name"}, page="/account/security")
    assert renamed.status_code == 303
    assert renamed.headers["location"] == "/account/security"
    page = await client.get("/account/security")
    assert "New name" in page.text and "Your passkey has been renamed." in page.text

    bad = await client.submit(f"{path}/rename", {"name": " "}, page="/account/security")
    assert bad.status_code == 422
    assert "Enter a name of at most 100 characters." in bad.text

    removed = await client.submit(f"{path}/delete", {}, page="/account/security")
    assert removed.status_code == 303
    assert [p.name for p in await passkey_rows(app)] == ["Spare"]


async def test_removing_the_last_passkey_on_the_page_explains_why(app: Litestar, client: Client) -> None:
    await signed_in(client)
    key = (await register(client, authenticator(), name="Only one")).json()
    await drop_password(app)
    answer = await client.submit(f"/account/passkeys/{key['id']}/delete", {}, page="/account/security")
    assert answer.status_code == 409
    assert "This is your only way to sign in." in answer.text
    assert "Only one" in answer.text


async def test_removing_on_a_stale_session_asks_to_reauthenticate(app: Litestar, client: Client) -> None:
    await signed_in(client)
    key = (await register(client, authenticator())).json()
    token = await client.csrf("/account/security")
    await age_sessions(app, minutes=60)
    answer = await client.post(f"/account/passkeys/{key['id']}/delete", data={"_csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/reauthenticate?")
    assert len(await passkey_rows(app)) == 1


async def test_sign_in_page_offers_passkeys(client: Client) -> None:
    page = await client.get("/sign-in?next=/account")
    assert "data-passkey-sign-in" in page.text
    assert 'data-next="/account"' in page.text
    assert "Use a passkey" in page.text


async def reauthenticate_with(client: Client, device: SoftAuthenticator, **get: Any) -> Any:
    options = await client.post("/api/auth/passkey/reauthenticate/options")
    assert options.status_code == 200, options.text
    body = {"response": device.get(options.json(), **get)}
    return await client.post("/api/auth/passkey/reauthenticate/verify", json=body)


async def test_a_passkey_makes_a_stale_session_fresh_again(app: Litestar, client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    key = (await register(client, device)).json()
    await register(client, authenticator())
    await age_sessions(app, minutes=60)
    refused = await client.post("/api/auth/passkey/delete-passkey", json={"id": key["id"]})
    assert refused.status_code == 403
    assert (await reauthenticate_with(client, device, flags=UP)).status_code == 401  # no user verification
    confirmed = await reauthenticate_with(client, device)
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.post("/api/auth/passkey/delete-passkey", json={"id": key["id"]})).status_code == 200
    events = [row.event for row in await audit_events(app, "session.reauthenticated")]
    assert events == ["session.reauthenticated"]


async def test_reauthentication_takes_only_the_users_own_passkey(app: Litestar, client: Client) -> None:
    await signed_in(client)
    await register(client, authenticator())
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await signed_in(other)
        their_device = authenticator()
        await register(other, their_device)
    await age_sessions(app, minutes=60)
    options = (await client.post("/api/auth/passkey/reauthenticate/options")).json()
    assert len(options["allowCredentials"]) == 1
    answer = await client.post("/api/auth/passkey/reauthenticate/verify", json={"response": their_device.get(options)})
    assert answer.status_code == 401
    assert (await client.post("/api/auth/passkey/generate-register-options")).status_code == 403


async def test_reauthentication_page_offers_a_passkey(client: Client) -> None:
    await signed_in(client)
    page = await client.get("/reauthenticate?next=/account/security")
    assert "data-passkey-reauth" in page.text
    assert 'data-next="/account/security"' in page.text


async def test_reauthentication_without_a_passkey_says_so(client: Client) -> None:
    await signed_in(client)
    answer = await client.post("/api/auth/passkey/reauthenticate/options")
    assert answer.status_code == 404
    assert answer.json()["message"] == "You have no passkey on this account yet."
