"""API keys in a real browser: create one, copy it, call the API with it over HTTP, revoke it, see it refused."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import Confirmations, LiveServer
from tests.e2e.test_browser import PHONE_WIDTH, assert_no_horizontal_scroll, sign_in, sign_up_by_api

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_create_copy_use_revoke_refused(page: Page, live_server: LiveServer) -> None:
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    email = unique_email("e2e-keys")
    await sign_up_by_api(page, live_server, email, verify=True)
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    await expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("Nightly backup")
    await page.get_by_label("Expires").select_option("30")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.get_by_role("heading", name="Copy your new key")).to_be_visible()

    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    key = await page.evaluate("navigator.clipboard.readText()")
    assert key.startswith("ak_") and key == await page.get_by_label("Your new API key").input_value()

    async with httpx.AsyncClient(base_url=live_server.url) as script:
        response = await script.get("/api/me", headers={"x-api-key": key})
        assert response.status_code == 200 and response.json()["user"]["email"] == email
        assert (await script.get("/api/me", params={"api_key": key})).status_code == 401

        await page.reload()
        assert key not in await page.content()  # shown once only
        row = page.get_by_role("listitem").filter(has_text="Nightly backup")
        await expect(row).to_contain_text(key[:9])
        await expect(row.get_by_text("Never", exact=True)).to_have_count(0)  # last used: just now
        await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
        await assert_no_horizontal_scroll(page)

        # Revoking asks first, naming the key; "Cancel" leaves it working.
        confirmations = Confirmations(page, False, True)
        await row.get_by_role("button", name="Revoke").click()
        await confirmations.wait_for(1)
        question = "Revoke “Nightly backup”? Requests made with it are refused from then on, for good."
        assert confirmations.asked == [question]
        assert (await script.get("/api/me", headers={"authorization": f"Bearer {key}"})).status_code == 200
        await expect(row).to_be_visible()
        await row.get_by_role("button", name="Revoke").click()
        await expect(page.locator("#notice-region")).to_contain_text("The key has been revoked")
        assert confirmations.asked == [question, question]
        await expect(page.get_by_text("You have no API keys yet.")).to_be_visible()
        refused = await script.get("/api/me", headers={"authorization": f"Bearer {key}"})
        assert refused.status_code == 401 and refused.json()["code"] == "INVALID_API_KEY"
