"""The session list on the security page: what each row says, and signing devices out with and without htmx."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar import Litestar

from tests.auth.test_session_list import SAFARI_IPHONE, device, session_id
from tests.auth.test_sessions import shift_session
from tests.conftest import BASE_URL, AppFactory, Client, reauthenticate, signed_in

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def rows(html: str) -> list[str]:
    """The <li> of each session row."""
    return re.findall(r'<li class="session[^"]*"\s+id="session-.*?</li>', html, flags=re.S)


async def test_each_session_is_a_row_with_its_device_ip_method_and_times(client: Client, app: Litestar) -> None:
    client.headers["user-agent"] = CHROME_WINDOWS
    email = await signed_in(client)
    async with device(app, email, SAFARI_IPHONE) as phone:
        page = await client.get("/account/security")
        assert page.status_code == 200
        listed = rows(page.text)
        assert len(listed) == 2
        this, other = listed  # this device first
        assert "Chrome 124 on Windows 10" in this and "This device" in this and "Desktop" in this
        assert "IP 127.0.0.1" in this and "Password" in this and "Last active</dt><dd>Now" in this
        assert 'action="/account/sessions/revoke"' not in this  # this device signs out from the top bar
        assert "Mobile Safari 17 on iOS 17" in other and "Mobile" in other and "IP 203.0.113.7" in other
        assert "This device" not in other
        assert f'name="session" value="{await session_id(phone)}"' in other
        assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" data-local>', other)
        assert "session--current" in this
        assert "on its next request" in page.text
        assert "Sign out other devices" in page.text and "Sign out everywhere" in page.text


async def test_the_help_text_states_the_cookie_cache_delay(make_app: AppFactory) -> None:
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 300})
    async with Client(app=app, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        page = await client.get("/account/security")
        assert "signed out within 5 minutes" in page.text
        await app.state.mailer.drain()


async def test_sign_out_a_device_without_javascript(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        target = await session_id(laptop)
        response = await client.submit("/account/sessions/revoke", {"session": target}, page="/account/security")
        assert response.status_code == 303 and response.headers["location"] == "/account/security"
        assert (await laptop.get("/api/auth/get-session")).json() is None
        after = await client.get("/account/security")
        assert "That device is signed out." in after.text and len(rows(after.text)) == 1
        again = await client.submit("/account/sessions/revoke", {"session": target}, page="/account/security")
        assert again.status_code == 303
        assert "That session had already ended." in (await client.get("/account/security")).text


async def test_with_htmx_the_row_goes_and_the_notice_is_filled_out_of_band(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        target = await session_id(laptop)
        response = await client.submit(
            "/account/sessions/revoke",
            {"session": target},
            page="/account/security",
            headers={"hx-request": "true", "hx-target": f"session-{target}"},
        )
        assert response.status_code == 200
        assert 'id="notice-region" hx-swap-oob="innerHTML"' in response.text
        assert "That device is signed out." in response.text
        assert "<li" not in response.text and "<html" not in response.text  # nothing replaces the row
        assert (await laptop.get("/api/auth/get-session")).json() is None


async def test_sign_out_other_devices_and_everywhere_from_the_page(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        response = await client.submit("/account/sessions/revoke-others", {}, page="/account/security")
        assert response.status_code == 303 and response.headers["location"] == "/account/security"
        assert (await laptop.get("/api/auth/get-session")).json() is None
        page = await client.get("/account/security")
        assert "Your other devices are signed out." in page.text
        assert "Sign out other devices" not in page.text  # nothing left to sign out
    response = await client.submit("/account/sessions/revoke-all", {}, page="/account/security")
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    assert (await client.get("/account/security")).status_code == 303


async def test_a_device_of_another_user_cannot_be_signed_out_from_the_page(client: Client, app: Litestar) -> None:
    await signed_in(client)
    async with Client(app=app, base_url=BASE_URL) as victim:
        victim.headers["origin"] = BASE_URL
        await signed_in(victim)
        target = await session_id(victim)
        response = await client.submit("/account/sessions/revoke", {"session": target}, page="/account/security")
        assert response.status_code == 303
        assert (await victim.get("/api/auth/get-session")).json() is not None


async def test_the_forms_need_the_csrf_token(client: Client, app: Litestar) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        target = await session_id(laptop)
        for path in ("/account/sessions/revoke", "/account/sessions/revoke-others", "/account/sessions/revoke-all"):
            response = await client.post(path, data={"session": target})
            assert response.status_code == 403, path
        assert (await laptop.get("/api/auth/get-session")).json() is not None


async def test_a_stale_session_is_asked_to_reauthenticate_and_the_row_is_pointed_at(
    client: Client, app: Litestar
) -> None:
    email = await signed_in(client)
    async with device(app, email) as laptop:
        target = await session_id(laptop)
        await shift_session(app, authenticated_at=timedelta(hours=1))
        response = await client.submit(
            "/account/sessions/revoke", {"session": target}, page="/account/security", headers={"hx-request": "true"}
        )
        assert response.status_code == 204
        location = response.headers["hx-redirect"]
        assert location.startswith("/reauthenticate?next=%2Faccount%2Fsecurity%3Fresume%3D")
        assert (await laptop.get("/api/auth/get-session")).json() is not None
        back = await reauthenticate(client, location)
        page = await client.get(back)
        [highlighted] = re.findall(r'<li class="session session--highlight"\s+id="session-([^"]+)"', page.text)
        assert highlighted == target
        assert "Press “Sign out” on the highlighted device again to finish." in page.text
