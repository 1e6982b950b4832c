"""OAuth in a real browser against the real test provider: sign up, link by verified email, refusal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import ConsoleWatch, LiveServer
from tests.e2e.test_browser import PHONE_WIDTH, assert_no_horizontal_scroll, sign_in, sign_up_by_api
from tests.features.oauth.conftest import configure
from tests.features.oauth.provider import LABEL, OIDCProvider

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def idp() -> Iterator[OIDCProvider]:
    provider = OIDCProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def feature_settings(idp: OIDCProvider) -> dict[str, dict[str, Any]]:
    """The providers the live server's app switches on."""
    idp.reset()
    oauth: dict[str, Any] = configure(idp)
    # Two more providers, never contacted here: they show the "More options" disclosure.
    for name in ("github", "discord"):
        oauth |= {f"{name}_client_id": f"{name}-id", f"{name}_client_secret": f"{name}-secret"}
    return {"oauth": oauth}


async def continue_with_provider(page: Page) -> None:
    await page.goto("/sign-in")
    await page.get_by_role("link", name=f"Continue with {LABEL}").click()
    await expect(page.get_by_role("heading", name=LABEL)).to_be_visible()
    await page.get_by_role("button", name="Approve").click()


async def test_new_user_signs_up_through_the_provider(page: Page, live_server: LiveServer, idp: OIDCProvider) -> None:
    idp.identity.email = unique_email("e2e-oauth")
    await page.goto("/sign-in")
    more = page.get_by_text("More options")
    await expect(more).to_be_visible()
    await expect(page.get_by_role("link", name="Continue with Discord")).to_be_hidden()
    await more.click()
    await expect(page.get_by_role("link", name="Continue with Discord")).to_be_visible()
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    await page.set_viewport_size({"width": 1280, "height": 800})

    await continue_with_provider(page)
    await expect(page.get_by_role("heading", name="Welcome, Grace Hopper")).to_be_visible()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign-in methods").click()
    await expect(page.get_by_role("heading", name="Sign-in methods", level=1)).to_be_visible()
    method = page.get_by_role("listitem").filter(has_text=LABEL)
    await expect(method).to_contain_text(idp.identity.email)
    await expect(page.get_by_role("button", name=f"Unlink {LABEL}")).to_be_disabled()  # the only way in
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)


async def test_existing_verified_user_is_linked(page: Page, live_server: LiveServer, idp: OIDCProvider) -> None:
    email = unique_email("e2e-linked")
    await sign_up_by_api(page, live_server, email, verify=True)
    idp.identity.email = email
    await continue_with_provider(page)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()
    await page.goto("/account/connections")
    await expect(page.get_by_text("Password", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name=f"Unlink {LABEL}")).to_be_enabled()


async def test_existing_unverified_user_is_refused_with_a_clear_message(
    page: Page, live_server: LiveServer, idp: OIDCProvider, console: ConsoleWatch
) -> None:
    console.expect_status(409)
    email = unique_email("e2e-unverified")
    await sign_up_by_api(page, live_server, email, verify=False)
    idp.identity.email = email
    await continue_with_provider(page)
    await expect(page.get_by_role("heading", name="Sign-in not completed")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("An account with this email address already exists")
    await expect(page.get_by_role("alert")).to_contain_text(f"then link {LABEL} from your account page")
    await page.get_by_role("link", name="Back to sign in").click()
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()


async def test_link_from_the_account_page_then_unlink(page: Page, live_server: LiveServer, idp: OIDCProvider) -> None:
    email = unique_email("e2e-link")
    await sign_up_by_api(page, live_server, email, verify=True)
    await page.goto("/sign-in")
    await sign_in(page, email, STRONG_PASSWORD)
    await expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()
    idp.identity.email = unique_email("e2e-other-address")  # linking by hand does not need the same address
    await page.goto("/account/connections")
    await page.get_by_role("link", name=f"Link {LABEL}").click()
    await page.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("heading", name="Sign-in methods", level=1)).to_be_visible()
    method = page.get_by_role("listitem").filter(has_text=LABEL)
    await expect(method).to_contain_text(idp.identity.email)
    await expect(page.get_by_role("link", name=f"Link {LABEL}")).to_have_count(0)
    await method.get_by_role("button", name=f"Unlink {LABEL}").click()
    await expect(page.get_by_role("listitem").filter(has_text=LABEL)).to_have_count(0)
    await expect(page.get_by_role("link", name=f"Link {LABEL}")).to_be_visible()
