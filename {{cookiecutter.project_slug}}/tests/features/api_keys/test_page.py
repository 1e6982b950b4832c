"""The API keys page: the key shown once, the list, revoking, errors in place, re-authentication."""

from __future__ import annotations

import re

from litestar import Litestar

from tests.conftest import Client, reauthenticate, signed_in
from tests.features.api_keys.helpers import age_sessions, bot, create_key, key_rows

PAGE = "/account/api-keys"
MOMENT_RE = re.compile(r'<time datetime="[\dT:-]+Z" data-local>\d+ \w+ \d{4}, \d\d:\d\d UTC</time>')
KEY_RE = re.compile(r'id="new-api-key" type="text" value="(ak_[A-Za-z0-9_-]+)"')


async def test_the_page_needs_a_signed_in_session(client: Client, app: Litestar) -> None:
    response = await client.get(PAGE)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=")
    await signed_in(client)
    key = (await create_key(client))["key"]
    async with bot(app) as script:
        with_key = await script.get(PAGE, headers={"x-api-key": key})
    assert with_key.status_code == 303 and with_key.headers["location"].startswith("/sign-in")


async def test_create_shows_the_key_once_then_only_its_start(client: Client, app: Litestar) -> None:
    await signed_in(client)
    page = await client.get(PAGE)
    assert page.status_code == 200 and "You have no API keys yet." in page.text
    assert 'aria-current="page">API keys' in page.text and 'href="/account" aria-current' not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert '<script src="/static/api_keys/api-keys.js" defer></script>' in page.text
    created = await client.submit(PAGE, {"name": "Nightly backup", "expires": "30", "scopes": "read"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    match = KEY_RE.search(created.text)
    assert match, created.text
    key = match.group(1)
    assert "This is the only time the key is shown." in created.text
    again = await client.get(PAGE)
    assert key not in again.text and key[:9] + "…" in again.text
    assert "Nightly backup" in again.text and "Never" in again.text
    question = "Revoke “Nightly backup”? Requests made with it are refused from then on, for good."
    assert f'hx-confirm="{question}"' in again.text  # asked before (tests/e2e/test_api_keys.py)
    # created and expiring: shown like every moment of the app, in the reader's time zone with app.js
    assert len(MOMENT_RE.findall(again.text)) == 2
    async with bot(app) as script:
        assert (await script.get("/api/me", headers={"x-api-key": key})).status_code == 200
    assert '<script src="/static/api_keys/api-keys.js" defer></script>' in (await client.get("/account")).text


async def test_the_revoke_question_names_the_key_escaped(client: Client) -> None:
    await signed_in(client)
    await client.submit(PAGE, {"name": 'Deploy "prod" <b>', "expires": "30", "scopes": "read"})
    listed = await client.get(PAGE)
    assert 'hx-confirm="Revoke “Deploy &#34;prod&#34; &lt;b&gt;”? Requests made with it' in listed.text
    assert '"prod" <b>' not in listed.text


async def test_form_errors_are_shown_in_place(client: Client) -> None:
    await signed_in(client)
    response = await client.submit(PAGE, {"name": "", "expires": "30", "scopes": "write"})
    assert response.status_code == 422
    assert "Enter a name for the key" in response.text and 'aria-invalid="true"' in response.text
    assert 'value="write" checked' in response.text  # the choices are kept
    response = await client.submit(PAGE, {"name": "x", "expires": "3650"})
    assert response.status_code == 422 and "Choose when the key expires." in response.text
    assert KEY_RE.search(response.text) is None


async def test_a_stale_session_re_authenticates_before_creating_or_revoking(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client)
    await age_sessions(app, minutes=60)
    token = await client.csrf(PAGE)
    typed = {"name": "Late <night> job", "expires": "30", "scopes": ["read", "write"], "_csrf_token": token}
    response = await client.post(PAGE, data=typed)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/reauthenticate?next=%2Faccount%2Fapi-keys%3Fresume%3D")
    revoke = await client.post(f"{PAGE}/{created['id']}/revoke", data={"_csrf_token": token})
    assert revoke.status_code == 303 and revoke.headers["location"].startswith("/reauthenticate")
    assert len(await key_rows(app)) == 1 and (await key_rows(app))[0].revoked_at is None
    # Back from the password prompt, the form is as it was typed, and nothing was created meanwhile.
    back = await reauthenticate(client, location)
    assert back.startswith(PAGE + "?resume=")
    page = await client.get(back)
    assert "Check the key&#39;s details and create it." in page.text
    assert 'value="Late &lt;night&gt; job"' in page.text
    assert 'value="read" checked' in page.text and 'value="write" checked' in page.text
    assert '<option value="30" selected>' in page.text
    assert len(await key_rows(app)) == 1
    assert "Check the key" not in (await client.get(back)).text  # the kept form is given back once


async def test_revoking_from_the_page_refuses_the_key_at_once(client: Client, app: Litestar) -> None:
    await signed_in(client)
    created = await create_key(client, "to revoke")
    response = await client.submit(f"{PAGE}/{created['id']}/revoke", {}, page=PAGE)
    assert response.status_code == 303 and response.headers["location"] == PAGE
    page = await client.get(PAGE)  # the notice, once, on the next page
    assert "The key has been revoked" in page.text and "to revoke" not in page.text
    assert "The key has been revoked" not in (await client.get(PAGE)).text
    assert "The key has been revoked" not in (await client.get(PAGE + "?revoked=1")).text  # never from a URL
    async with bot(app) as script:
        assert (await script.get("/api/me", headers={"x-api-key": created["key"]})).status_code == 401
