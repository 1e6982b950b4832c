"""Two-step verification in a real browser: enrol an authenticator app (codes computed with pyotp),
keep the recovery codes, then sign in with password + code, and with password + recovery code."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Page, expect

from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import ConsoleWatch, LiveServer
from tests.e2e.test_browser import PHONE_WIDTH, assert_no_horizontal_scroll, sign_in, sign_up_by_api

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def totp(secret: str, steps_from_now: int = 0) -> str:
    """What the authenticator app shows, `steps_from_now` 30-second steps away."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)


async def early_in_a_step(seconds_left: float = 8) -> None:
    """Wait, if need be, until the current 30-second step has `seconds_left` to run: the previous
    step's code stops being accepted when this one ends, and a slow run may cross the boundary
    between typing a code and the server checking it."""
    left = 30 - time.time() % 30
    if left < seconds_left:
        await asyncio.sleep(left + 0.2)


async def sign_out(page: Page) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_enrol_then_sign_in_with_code_and_with_recovery_code(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    email = unique_email("e2e-2fa")
    await sign_up_by_api(page, live_server, email, verify=True)
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    # Enrol: the QR code is an inline SVG, the key is there in text too.
    await page.goto("/account/security")
    card = page.locator("#two-factor-card")
    await expect(card).to_contain_text("Off")
    await card.get_by_role("button", name="Set up an authenticator app").click()
    await expect(page.get_by_role("heading", name="Set up an authenticator app", level=1)).to_be_visible()
    await expect(page.locator(".two-factor__qr svg")).to_be_visible()
    secret = await page.locator("#totp-secret").get_attribute("data-secret")
    assert secret and len(secret) >= 32
    await page.get_by_role("button", name="Copy key").click()
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    await page.set_viewport_size({"width": 1280, "height": 800})
    # The previous step's code: "now" stays unused for the sign-in below.
    await early_in_a_step()
    await page.get_by_label("6-digit code").fill(totp(secret, -1))
    await page.get_by_role("button", name="Turn on").click()

    # Recovery codes, shown once: download them and copy them.
    await expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = [c.strip() for c in await page.locator("#recovery-codes code").all_inner_texts()]
    # The address bar shows a page a reload can GET (not the POST-only address of the form: 405).
    assert (await page.request.get(page.url)).status == 200
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download .txt").click()
    download = await info.value
    assert download.suggested_filename.endswith("recovery-codes.txt")
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert all(code in saved.read_text() for code in codes)
    await page.get_by_role("button", name="Copy", exact=True).click()
    await expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert codes[0] in await page.evaluate("navigator.clipboard.readText()")
    await page.get_by_role("link", name="Done").click()
    await expect(page.locator("#two-factor-card")).to_contain_text("10 of 10 recovery codes left")

    # Password, then the code from the app.
    await sign_out(page)
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    await expect(page.get_by_label("Code from your authenticator app", exact=True)).to_be_focused()
    assert (await page.request.get("/api/auth/get-session")).ok
    assert await (await page.request.get("/api/auth/get-session")).json() is None  # not signed in yet
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.get_by_label("Code from your authenticator app", exact=True).fill(totp(secret))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    # Password, then a recovery code (the app's codes are not at hand).
    await sign_out(page)
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    await page.get_by_text("Lost your phone? Use a recovery code").click()
    await page.get_by_label("Recovery code", exact=True).fill(codes[0])
    await page.get_by_role("button", name="Use recovery code").click()
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()
    await page.goto("/account/security")
    await expect(page.locator("#two-factor-card")).to_contain_text("9 of 10 recovery codes left")


async def test_wrong_code_is_shown_in_place_and_a_used_code_is_refused(
    page: Page, live_server: LiveServer, console: ConsoleWatch
) -> None:
    console.expect_status(422)  # the refused code is shown inline
    email = unique_email("e2e-2fa-wrong")
    await sign_up_by_api(page, live_server, email, verify=True)
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()
    await page.goto("/account/security")
    await page.get_by_role("button", name="Set up an authenticator app").click()
    secret = await page.locator("#totp-secret").get_attribute("data-secret")
    assert secret
    used = totp(secret)
    await page.get_by_label("6-digit code").fill(used)
    await page.get_by_role("button", name="Turn on").click()
    await expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()

    await sign_out(page)
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    # The code that switched 2FA on was used: the same code is refused, with the attempts left. (The
    # very code, not "the code now": a 30-second step may have ended since, making a new code valid.)
    await page.get_by_label("Code from your authenticator app", exact=True).fill(used)
    await page.get_by_label("Trust this browser for 30 days").first.check()
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("alert")).to_contain_text("That code is not correct. 4 attempts left.")
    await expect(page.get_by_label("Trust this browser for 30 days").first).to_be_checked()
    await page.get_by_label("Code from your authenticator app", exact=True).fill(totp(secret, 1))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    # This browser is trusted now: the next sign-in skips the second step; the security page can undo it.
    await sign_out(page)
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()
    await page.goto("/account/security")
    await expect(page.get_by_text("Trusted browsers")).to_be_visible()
    await page.get_by_role("button", name="Stop trusting").click()
    await expect(page.get_by_text("That browser will ask for your second step again.")).to_be_visible()
    await sign_out(page)
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
