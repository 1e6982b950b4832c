"""Sensitive actions need a fresh session; a stale one re-authenticates and finishes with its form kept."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from litestar import Litestar

from app.core.crypto import hash_token
from app.core.resume import KEY_PREFIX
from tests.auth.test_sessions import shift_session
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, Inbox, reauthenticate, signed_in, unique_email

NEW_PASSWORD = "another long passphrase 77"


async def go_stale(app: Litestar) -> None:
    await shift_session(app, authenticated_at=timedelta(hours=1))


def resume_handle(location: str) -> str:
    """The kept form's handle inside a /reauthenticate?next=... location."""
    target = parse_qs(urlsplit(location).query)["next"][0]
    return parse_qs(urlsplit(target).query)["resume"][0]


async def test_change_email_comes_back_with_the_typed_address(client: Client, app: Litestar, inbox: Inbox) -> None:
    await signed_in(client)
    await go_stale(app)
    new = unique_email("kept")
    response = await client.submit("/account/email", {"email": new}, page="/account")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/reauthenticate?next=%2Faccount%3Fresume%3D")
    assert new not in location and "kept" not in location  # the address stays on the server
    assert (await client.get(location)).status_code == 200

    back = await reauthenticate(client, location)
    page = await client.get(back)
    assert f'value="{new}"' in page.text
    assert "We kept the address you typed" in page.text
    assert f'value="{new}"' not in (await client.get(back)).text  # given back once

    done = await client.submit("/account/email", {"email": new}, page="/account")
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert "/verify-email/change" in (await inbox.last(new)).text


async def test_change_password_keeps_the_checkbox_but_never_a_password(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await go_stale(app)
    form = {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}  # "sign out others" unticked
    response = await client.submit("/account/password", form, page="/account/security")
    assert response.status_code == 303
    location = response.headers["location"]
    raw = await app.state.form_stash.store.get(KEY_PREFIX + hash_token(resume_handle(location)))
    assert raw is not None and STRONG_PASSWORD.encode() not in raw and NEW_PASSWORD.encode() not in raw

    page = await client.get(await reauthenticate(client, location))
    assert STRONG_PASSWORD not in page.text and NEW_PASSWORD not in page.text
    assert "Passwords are never kept: type them again to finish." in page.text
    checkbox = re.search(r'<input class="check__input" type="checkbox" id="field-revoke-others"[^>]*>', page.text)
    assert checkbox and "checked" not in checkbox.group(0)

    done = await client.submit("/account/password", form, page="/account/security")
    assert done.status_code == 303 and done.headers["location"] == "/account/security"


async def test_delete_account_comes_back_with_the_typed_confirmation(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    await go_stale(app)
    response = await client.submit("/account/delete", {"confirm": email}, page="/account/security")
    page = await client.get(await reauthenticate(client, response.headers["location"]))
    assert f'id="field-confirm" name="confirm" type="text" value="{email}"' in page.text
    assert "Press “Delete my account” again to finish." in page.text


async def test_a_kept_form_is_only_given_back_to_the_session_that_left_it(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    await go_stale(app)
    new = unique_email("private")
    response = await client.submit("/account/email", {"email": new}, page="/account")
    handle = resume_handle(response.headers["location"])
    async with Client(app=app, base_url=BASE_URL) as other:  # the same user, another browser
        other.headers["origin"] = BASE_URL
        await other.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        assert new not in (await other.get(f"/account?resume={handle}")).text
    await reauthenticate(client, response.headers["location"])
    assert f'value="{new}"' in (await client.get(f"/account?resume={handle}")).text


async def test_a_wrong_password_on_the_reauthentication_page_keeps_the_way_back(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await go_stale(app)
    response = await client.submit("/account/email", {"email": unique_email()}, page="/account")
    location = response.headers["location"]
    target = parse_qs(urlsplit(location).query)["next"][0]
    wrong = await client.submit("/reauthenticate", {"password": "not my password 1", "next": target}, page=location)
    assert wrong.status_code == 422 and "That password is not correct." in wrong.text
    assert f'name="next" value="{target}"' in wrong.text  # the way back, with the form's handle, is kept
    assert await reauthenticate(client, location) == target


async def test_the_api_answers_not_fresh_for_password_and_email_changes(client: Client, app: Litestar) -> None:
    await signed_in(client)
    await go_stale(app)
    for path, body in [
        ("/api/auth/change-password", {"currentPassword": STRONG_PASSWORD, "newPassword": NEW_PASSWORD}),
        ("/api/auth/change-email", {"newEmail": unique_email()}),
    ]:
        response = await client.post(path, json=body)
        assert response.status_code == 403 and response.json()["code"] == "SESSION_NOT_FRESH", path
    signed_out = await client.post("/api/auth/sign-out")  # not sensitive: it only ends this session
    assert signed_out.status_code == 200


async def test_reauthentication_refreshes_a_cached_session(make_app: AppFactory) -> None:
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 300})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        await go_stale(app)
        await client.get("/api/auth/get-session")  # caches the stale snapshot in the browser
        response = await client.submit("/account/delete", {"confirm": "x"}, page="/account/security")
        await reauthenticate(client, response.headers["location"])
        again = await client.submit("/account/delete", {"confirm": "x"}, page="/account/security")
        assert again.status_code == 422  # past the guard: only the typed confirmation is wrong now
        await app.state.mailer.drain()


async def test_deleting_with_a_password_pays_with_the_failed_sign_in_budget(make_app: AppFactory) -> None:
    """A stolen, no longer fresh session cannot guess the password to delete the account."""
    app = make_app(rate_limit={"failed_sign_in_budget": 3})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        await go_stale(app)
        codes = [
            (await client.post("/api/auth/delete-user", json={"password": f"guess number {i}"})).status_code
            for i in range(4)
        ]
        assert codes == [400, 400, 400, 429]
        right = await client.post("/api/auth/delete-user", json={"password": STRONG_PASSWORD})
        assert right.status_code == 429  # locked for the window, even for the right password
        assert (await client.get("/api/auth/get-session")).json() is not None
        await app.state.mailer.drain()
