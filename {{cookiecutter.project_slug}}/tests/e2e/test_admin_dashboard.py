"""The admin dashboard in a real browser: SVG charts under the CSP, on a phone and a desktop, with their numbers."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from app.auth.models import User
from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import ConsoleWatch, LiveServer
from tests.e2e.test_browser import PHONE_WIDTH, assert_no_horizontal_scroll, sign_in, sign_up_by_api

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_the_dashboard_draws_its_charts_and_gives_their_numbers(
    page: Page, live_server: LiveServer, database_url: str, console: ConsoleWatch
) -> None:
    email = unique_email("e2e-dashboard")
    await sign_up_by_api(page, live_server, email, verify=True)
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(col(User.email) == email).values(role="admin"))
    await engine.dispose()
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    for title in ("Sign-ins", "Signed-in users", "Sign-ups", "Failed sign-ins", "Bans"):
        chart = page.get_by_role("img", name=f"{title} per day", exact=True)
        await expect(chart).to_be_visible()
        box = await chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100, (title, box)
    sign_ups = page.locator("#chart-sign-ups-card")
    await sign_ups.get_by_text("Numbers by day").click()
    today = sign_ups.get_by_role("row").last  # the admin's own sign-up, today
    await expect(today.get_by_role("cell")).to_have_text("1")
    await assert_no_horizontal_scroll(page)

    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await page.reload()
    chart = page.get_by_role("img", name="Sign-ups per day", exact=True)
    box = await chart.bounding_box()
    assert box is not None and box["width"] <= PHONE_WIDTH - 32, box  # inside the card, scaled down
    await assert_no_horizontal_scroll(page)
