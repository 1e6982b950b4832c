"""The admin console in a real browser: find a user, ban them, impersonate them and stop, export the audit log."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from app.auth.models import User
from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import Confirmations, ConsoleWatch, LiveServer, OpenPage
from tests.e2e.test_browser import PHONE_WIDTH, assert_no_horizontal_scroll, sign_in, sign_up_by_api

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def make_admin(database_url: str, email: str) -> None:
    """What `app users promote EMAIL` does, straight in the database."""
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(col(User.email) == email).values(role="admin"))
    await engine.dispose()


async def signed_in(page: Page, email: str) -> None:
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()


async def test_find_ban_impersonate_and_stop(
    page: Page, open_page: OpenPage, live_server: LiveServer, database_url: str, console: ConsoleWatch
) -> None:
    console.expect_status(404)  # the console, asked for as the impersonated user
    admin_email, user_email = unique_email("e2e-admin"), unique_email("e2e-member")
    await sign_up_by_api(page, live_server, admin_email, verify=True)
    await make_admin(database_url, admin_email)
    member = await open_page()
    await sign_up_by_api(member, live_server, user_email, verify=True)
    await signed_in(member, user_email)
    await signed_in(page, admin_email)

    # Find the user.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    await expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    await page.get_by_label("Search by email or name").fill(user_email)
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("table")).to_contain_text(user_email)
    await page.get_by_role("link", name=user_email).click()
    await expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    user_page = page.url

    # Ban for a week: the member's browser is signed out on its next request.
    await page.get_by_label("Reason").fill("Spam in every comment")
    await page.get_by_label("For", exact=True).select_option("7")
    await page.get_by_role("button", name="Ban user").click()
    await expect(page.locator("#notice-region")).to_contain_text("The user is banned")
    await expect(page.locator(".facts").get_by_text("Spam in every comment")).to_be_visible()
    await member.reload()
    await expect(member.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    await page.get_by_role("button", name="Lift the ban").click()
    await expect(page.locator("#notice-region")).to_contain_text("The ban is lifted")

    # Impersonate: the user's pages with a banner; no console; stop, and the admin is back.
    confirmations = Confirmations(page, True)
    await page.get_by_role("button", name="Impersonate").click()
    await expect(page).to_have_url(f"{live_server.url}/account")
    assert confirmations.asked and user_email in confirmations.asked[0]
    banner = page.get_by_role("status").filter(has_text="You are impersonating")
    await expect(banner).to_contain_text(user_email)
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto("/account/security")
    await expect(page.get_by_text("An administrator (impersonation)")).to_be_visible()
    missing = await page.goto("/admin/users")
    assert missing is not None and missing.status == 404
    await page.goto("/account")
    await page.get_by_role("button", name="Stop impersonating").click()
    await expect(page).to_have_url(user_page)
    await expect(page.locator("#notice-region")).to_contain_text("the impersonation has ended")
    await expect(page.get_by_text("You are impersonating")).to_have_count(0)
    await expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()

    # The audit log, filtered to this user's ban, exported as CSV: the file holds that row alone.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    await page.get_by_label("Event").select_option("user.banned")
    await page.get_by_label("User involved").fill(user_email)
    await page.get_by_role("button", name="Filter").click()
    csv_link = page.get_by_role("link", name="CSV")
    await expect(csv_link).to_have_attribute("href", re.compile(r"event=user\.banned"))  # the filtered page's
    await expect(page.get_by_role("table")).to_contain_text("user.banned")
    async with page.expect_download() as download_info:
        await csv_link.click()
    download = await download_info.value
    assert download.suggested_filename.startswith("audit-log-") and download.suggested_filename.endswith(".csv")
    saved = await download.path()
    text = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["event"] for row in rows] == ["user.banned"]
    assert rows[0]["target_id"] == user_page.rsplit("/", 1)[1]
    assert "Spam in every comment" in rows[0]["data"]

    # The console at a phone's width.
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    await page.goto("/admin/users")
    await assert_no_horizontal_scroll(page)
