"""Sessions in real browsers: a stale session re-authenticates mid-form and comes back to it.

The pages are watched for console errors and CSP violations like every other browser test.
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
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import mail_to, sign_in, sign_up_by_api

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


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
