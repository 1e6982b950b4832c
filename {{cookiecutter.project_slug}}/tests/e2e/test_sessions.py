"""Sessions in real browsers: one device signs another out, and a stale session re-authenticates mid-form.

Each device is its own browser profile (context) on the live server; the pages are watched for
console errors and CSP violations like every other browser test.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.models import Session
from app.core.db import utcnow
from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import LiveServer, OpenPage
from tests.e2e.test_browser import mail_to, sign_in, sign_up_by_api

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


async def signed_in_page(page: Page, email: str) -> None:
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()


async def make_sessions_stale(database_url: str) -> None:
    """As if the sign-in happened an hour ago: sensitive actions now ask for the password."""
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(update(Session).values(authenticated_at=utcnow() - timedelta(hours=1)))
    await engine.dispose()


async def test_signing_out_another_device_ends_it_on_its_next_request(
    page: Page, open_page: OpenPage, live_server: LiveServer
) -> None:
    email = unique_email("e2e-sessions")
    await sign_up_by_api(page, live_server, email, verify=True)
    phone = await open_page(user_agent=IPHONE, viewport={"width": 375, "height": 740})
    await signed_in_page(phone, email)
    await signed_in_page(page, email)

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Security").click()
    sessions = page.get_by_role("list", name="Signed-in devices")
    await expect(sessions.get_by_role("listitem")).to_have_count(2)
    this_device = sessions.get_by_role("listitem").filter(has_text="This device")
    await expect(this_device).to_contain_text("HeadlessChrome")
    other = sessions.get_by_role("listitem").filter(has_text="Mobile Safari 17 on iOS 17")
    await expect(other).to_contain_text("Mobile")
    await page.evaluate("window.notReloaded = true")

    await other.get_by_role("button", name="Sign out Mobile Safari 17 on iOS 17").click()
    await expect(other).to_have_count(0)  # removed in place
    await expect(sessions.get_by_role("listitem")).to_have_count(1)
    await expect(page.get_by_role("status")).to_contain_text("That device is signed out.")
    assert await page.evaluate("window.notReloaded === true"), "the row went by a page load, not in place"
    assert await page.evaluate("document.activeElement.id") == "session-list", "focus was dropped"

    await phone.goto("/account")  # the phone's very next request
    await expect(phone).to_have_url(re.compile(r"/sign-in\?next=%2Faccount$"))
    await expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator(".who__name")).to_have_text("Ada Lovelace")  # this device is still in


async def test_a_stale_email_change_reauthenticates_and_comes_back_with_the_address(
    page: Page, live_server: LiveServer, database_url: str
) -> None:
    email = unique_email("e2e-reauth")
    new = unique_email("e2e-new")
    await sign_up_by_api(page, live_server, email, verify=True)
    await signed_in_page(page, email)
    await make_sessions_stale(database_url)

    await page.goto("/account")
    await page.get_by_label("New email address").fill(new)
    await page.get_by_role("button", name="Change email").click()
    await expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    assert new not in page.url
    await page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    await page.get_by_role("button", name="Continue").click()

    await expect(page).to_have_url(re.compile(r"/account\?resume="))
    await expect(page.get_by_label("New email address")).to_have_value(new)
    await expect(page.locator(".resume-alert")).to_contain_text("press “Change email” again to finish")
    await page.get_by_role("button", name="Change email").click()
    await expect(page.get_by_role("status")).to_contain_text("Check your new inbox")
    assert (await mail_to(live_server, new)).subject
