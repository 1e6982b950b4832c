"""Passkeys in a real browser: Chromium with a CDP virtual authenticator (a platform authenticator
with user verification, like Touch ID). Register a passkey, sign out, sign in with it from the
button and from the email field's autofill (conditional UI), rename it, remove it.

WebAuthn needs a domain for the relying-party id (not an IP address), so this module's server is
reached as http://localhost:<port>, which browsers treat as a secure context.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import CDPSession, Page, expect

from app.asgi import create_app
from tests.conftest import STRONG_PASSWORD, make_settings, unique_email
from tests.e2e.conftest import Confirmations, ConsoleWatch, LiveServer, _serve
from tests.e2e.test_browser import PHONE_WIDTH, assert_no_horizontal_scroll, sign_in, sign_up_by_api
from tests.mailbox import Mailbox

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# Lets a test click the button while the autofill request is off (set before loading the page).
NO_AUTOFILL = """
if (localStorage.getItem("test:no-conditional-ui") && window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
}
"""


@pytest.fixture
def live_server(database_url: str, mailbox: Mailbox, feature_settings: dict[str, Any]) -> Iterator[LiveServer]:
    """The app under uvicorn, reached as http://localhost:<port> (overrides the conftest's 127.0.0.1)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://localhost:{sock.getsockname()[1]}"
    settings = make_settings(database_url, mailbox.port, app={"base_url": url, "name": "E2E App"}, **feature_settings)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))
    thread = threading.Thread(target=_serve, args=(server, sock), name="uvicorn-passkeys", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the app did not start on {url}")
        time.sleep(0.02)
    yield LiveServer(url=url, mailbox=mailbox)
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


async def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator with resident keys and user verification, answering without UI."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable", {"enableUI": False})
    added: dict[str, Any] = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


async def credentials(cdp: CDPSession, authenticator_id: str) -> list[dict[str, Any]]:
    found: dict[str, Any] = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    return list(found["credentials"])


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out").first.click()
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()


async def test_register_sign_in_by_button_and_autofill_rename_remove(
    page: Page, live_server: LiveServer, console: ConsoleWatch
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.context.add_init_script(NO_AUTOFILL)
    email = unique_email("e2e-passkey")
    await sign_up_by_api(page, live_server, email, verify=True)
    cdp, authenticator_id = await virtual_authenticator(page)

    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    # Register from the security page.
    await page.goto("/account/security")
    card = page.locator("#passkeys-card")
    await expect(card.get_by_text("You have no passkeys yet.")).to_be_visible()
    await card.get_by_label("Name").fill("Test laptop")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    await card.get_by_role("button", name="Add a passkey").click()
    await expect(card.get_by_role("listitem").filter(has_text="Test laptop")).to_be_visible()
    await expect(page.get_by_text("Your passkey has been added")).to_be_visible()
    # The script registers; htmx does not also send the form (its GET swapped in another page).
    assert not [url for url in sent if "name=Test" in url], sent
    stored = await credentials(cdp, authenticator_id)
    assert len(stored) == 1 and stored[0]["isResidentCredential"]
    await page.screenshot(path=str(SHOTS / "passkeys-security-1280.png"), full_page=True)

    # Sign out, sign in with the button. The virtual authenticator answers an autofill request at
    # once, so that is switched off for this part (and before each sign-out, which lands on /sign-in).
    await page.evaluate("localStorage.setItem('test:no-conditional-ui', '1')")
    await sign_out(page)
    await page.goto("/sign-in?next=/account/security")
    await page.screenshot(path=str(SHOTS / "passkeys-sign-in-1280.png"), full_page=True)
    await page.get_by_role("button", name="Use a passkey").click()
    await expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()
    assert (await credentials(cdp, authenticator_id))[0]["signCount"] >= 1

    # Sign out, sign in through the email field's autofill: conditional mediation.
    await page.evaluate("localStorage.setItem('test:no-conditional-ui', '1')")
    await sign_out(page)
    # The script marks the field for passkey autofill (checked while autofill is off, as the
    # virtual authenticator would sign in before a test could look).
    await expect(page.get_by_label("Email", exact=True)).to_have_attribute("autocomplete", "username webauthn")
    await page.evaluate("localStorage.removeItem('test:no-conditional-ui')")
    await page.goto("/sign-in")
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    # Confirm it's you with the passkey instead of the password.
    await page.goto("/reauthenticate?next=/account/security")
    await page.get_by_role("button", name="Use a passkey").click()
    await expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()

    # Rename, then remove (the password is still a way to sign in).
    await page.goto("/account/security")
    row = page.locator("#passkeys-card").get_by_role("listitem").filter(has_text="Test laptop")
    await expect(row).to_contain_text("Last used")
    await row.get_by_text("Rename").click()
    await row.get_by_label("New name for Test laptop").fill("Work laptop")
    await row.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Your passkey has been renamed.")).to_be_visible()
    row = page.locator("#passkeys-card").get_by_role("listitem").filter(has_text="Work laptop")
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    await page.screenshot(path=str(SHOTS / "passkeys-security-390.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    confirmations = Confirmations(page, True)
    await row.get_by_role("button", name="Remove").click()
    await expect(page.get_by_text("Your passkey has been removed.")).to_be_visible()
    assert confirmations.asked == ["Remove the passkey “Work laptop”? It will no longer sign you in."]
    await expect(page.locator("#passkeys-card").get_by_text("You have no passkeys yet.")).to_be_visible()

    # The passkey still on the device no longer signs in.
    await page.evaluate("localStorage.setItem('test:no-conditional-ui', '1')")
    await sign_out(page)
    await page.goto("/sign-in")
    console.expect_status(401)
    await page.get_by_role("button", name="Use a passkey").click()
    await expect(page.get_by_role("status").filter(has_text="not registered here")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "passkeys-unknown-passkey.png"))


@pytest.mark.parametrize("feature_settings", [{"passkeys": {"allow_sign_up": True}}], indirect=True)
async def test_passkey_first_sign_up(page: Page, live_server: LiveServer) -> None:
    cdp, authenticator_id = await virtual_authenticator(page)
    email = unique_email("e2e-passkey-first")
    await page.goto("/sign-in")
    await page.get_by_role("link", name="Sign up with a passkey").click()
    await expect(page.get_by_role("heading", name="Sign up with a passkey")).to_be_visible()
    await page.get_by_label("Name").fill("Grace Hopper")
    await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    link = live_server.mailbox.wait_for(email).link("/sign-up/passkey/finish")
    await page.goto(link)
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    await page.screenshot(path=str(SHOTS / "passkeys-sign-up-390.png"))
    await page.get_by_role("button", name="Create my passkey").click()
    await expect(page.get_by_role("heading", name="Welcome, Grace Hopper")).to_be_visible()
    assert len(await credentials(cdp, authenticator_id)) == 1
