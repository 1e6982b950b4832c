"""What a person sees in a real browser: sign-up to sign-out, password reset, inline errors, small screens.

Mails are real SMTP deliveries to the test mailbox; links are opened in the browser. Each page is
also checked for console errors and CSP violations (see the `page` fixture in conftest.py).
"""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, expect

from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import ConsoleWatch, LiveServer
from tests.mailbox import ReceivedMail

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

NEW_PASSWORD = "a brand new passphrase 77"
PHONE_WIDTH = 375


async def mail_to(live_server: LiveServer, email: str, count: int = 1) -> ReceivedMail:
    """The `count`-th mail to `email`, waited for without blocking the browser's event loop."""
    return await asyncio.to_thread(live_server.mailbox.wait_for, email, count)


async def sign_up_by_api(page: Page, live_server: LiveServer, email: str, verify: bool) -> None:
    """A user created through the JSON API (quicker than the form), optionally with the mail verified."""
    response = await page.request.post(
        "/api/auth/sign-up/email",
        data={"name": "Ada Lovelace", "email": email, "password": STRONG_PASSWORD},
        headers={"origin": live_server.url},
    )
    assert response.ok, await response.text()
    if verify:
        link = (await mail_to(live_server, email)).link("/verify-email")
        assert (await page.request.get(link)).ok


async def sign_in(page: Page, email: str, password: str) -> None:
    """Fill in and submit the sign-in form of the current page."""
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def assert_no_horizontal_scroll(page: Page) -> None:
    content, viewport = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert content <= viewport, f"{page.url} scrolls sideways at {PHONE_WIDTH}px: content is {content}px wide"


async def test_sign_up_verify_sign_in_edit_profile_and_sign_out(
    page: Page, live_server: LiveServer, console: ConsoleWatch
) -> None:
    console.expect_status(422)  # the refused sign-in before verification is shown inline
    email = unique_email("e2e-signup")
    await page.goto("/sign-up")
    await page.get_by_label("Name", exact=True).fill("Ada Lovelace")
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    await expect(page.get_by_text(email)).to_be_visible()
    assert (await mail_to(live_server, email)).subject.startswith("Verify your email")

    # Verification is required: signing in first only sends a fresh link.
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("alert")).to_contain_text("Verify your email address first")

    link = (await mail_to(live_server, email, count=2)).link("/verify-email")
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Email verified")).to_be_visible()
    await page.get_by_role("link", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    await expect(page).to_have_url(re.compile(r"/account$"))
    await page.get_by_label("Name", exact=True).fill("Ada King")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("Your profile has been saved.")
    await page.reload()
    await expect(page.get_by_label("Name", exact=True)).to_have_value("Ada King")
    await expect(page.locator(".who__name")).to_have_text("Ada King")

    # The signed-in layout fits a phone too.
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    await page.goto("/account")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Faccount$"))
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_forgot_password_reset_link_and_sign_in_with_the_new_password(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email("e2e-reset")
    await sign_up_by_api(page, live_server, email, verify=False)
    await page.goto("/sign-in")
    await page.get_by_role("link", name="Forgot password?").click()
    # The sign-in page has an Email field too: wait for the boosted swap before typing.
    await expect(page).to_have_url(re.compile(r"/forgot-password$"))
    await expect(page.get_by_role("button", name="Send reset link")).to_be_visible()
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_role("button", name="Send reset link").click()
    await expect(page.get_by_role("alert")).to_contain_text("we sent a link to reset its password")

    mail = await mail_to(live_server, email, count=2)  # the first is the verification mail
    await page.goto(mail.link("/reset-password"))
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Set new password").click()
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await expect(page.get_by_role("status")).to_contain_text("Your password has been reset")

    await sign_in(page, email, NEW_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()


async def test_wrong_password_error_is_shown_in_place_keeping_the_email_only(
    page: Page, live_server: LiveServer, console: ConsoleWatch
) -> None:
    console.expect_status(422)
    email = unique_email("e2e-inline")
    await sign_up_by_api(page, live_server, email, verify=True)
    await page.goto("/sign-in")
    await page.evaluate("window.notReloaded = true")  # survives an htmx swap, not a page load

    async with page.expect_response(lambda r: r.url.endswith("/sign-in") and r.request.method == "POST") as answer:
        await sign_in(page, email, "not the right password")
    response = await answer.value
    assert response.status == 422
    assert response.request.headers.get("hx-request") == "true"
    await expect(page.locator(".form-error")).to_contain_text("Invalid email or password.")
    await expect(page.get_by_label("Email", exact=True)).to_have_value(email)
    await expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert await page.evaluate("window.notReloaded === true"), "the error came as a new page, not an htmx swap"
    assert "not the right password" not in await page.content()

    await sign_in(page, email, STRONG_PASSWORD)  # the swapped-in form still works
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()


async def test_an_expired_form_token_is_said_next_to_the_form_which_keeps_what_was_typed(
    page: Page, live_server: LiveServer, console: ConsoleWatch
) -> None:
    """The CSRF check refuses before any handler runs: the answer lands in the notice region."""
    console.expect_status(403)
    email = unique_email("e2e-csrf")
    await page.goto("/sign-in")
    await page.evaluate("window.notReloaded = true")
    await page.context.clear_cookies()  # the form's token no longer matches any cookie
    await sign_in(page, email, "whatever was typed 1")
    await expect(page.locator("#notice-region [role=alert]")).to_contain_text("This form has expired")
    await expect(page.get_by_label("Email", exact=True)).to_have_value(email)
    assert page.url.endswith("/sign-in")
    assert await page.evaluate("window.notReloaded === true"), "the refusal replaced the page"


@pytest.mark.parametrize("path", ["/sign-in", "/sign-up", "/forgot-password"])
async def test_entrance_pages_fit_a_phone_without_sideways_scrolling(page: Page, path: str) -> None:
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 740})
    await page.goto(path)
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await assert_no_horizontal_scroll(page)


async def test_pages_load_without_console_errors_or_csp_violations(page: Page, console: ConsoleWatch) -> None:
    # Error pages answer 400 and 404 on purpose; Chromium logs those statuses, nothing else may be logged.
    for status in (400, 404):
        console.expect_status(status)
    for path in ("/sign-in", "/sign-up", "/forgot-password", "/reset-password?token=x", "/no-such-page"):
        await page.goto(path, wait_until="load")
        assert await page.evaluate("typeof htmx") == "object", f"htmx did not load on {path} (blocked by the CSP?)"
    assert not console.errors, "\n".join(console.errors)
