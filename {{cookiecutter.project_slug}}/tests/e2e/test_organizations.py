"""Organizations in a real browser: create, invite by mail, sign up through the link, accept, switch, member limits."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.conftest import STRONG_PASSWORD, unique_email
from tests.e2e.conftest import LiveServer, OpenPage
from tests.e2e.test_browser import (
    PHONE_WIDTH,
    assert_no_horizontal_scroll,
    mail_to,
    sign_in,
    sign_up_by_api,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def create_org(page: Page, name: str) -> None:
    await page.goto("/organizations/new")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_role("button", name="Create organization").click()
    await expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


async def switch_with_keyboard(page: Page, name: str) -> None:
    """Open the switcher from the keyboard and choose `name`."""
    summary = page.locator("summary.orgswitch__button")
    await summary.focus()
    await page.keyboard.press("Enter")
    choice = page.locator(".orgswitch__menu").get_by_role("button", name=re.compile(re.escape(name)))
    await expect(choice).to_be_visible()
    await choice.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("summary.orgswitch__button")).to_contain_text(name)


async def active_org(page: Page) -> str | None:
    session = await (await page.request.get("/api/auth/get-session")).json()
    active: str | None = session["session"]["activeOrganizationId"]
    return active


async def test_invite_sign_up_through_the_link_accept_switch_and_member_limits(
    page: Page, open_page: OpenPage, live_server: LiveServer
) -> None:
    alice_email, bob_email = unique_email("e2e-alice"), unique_email("e2e-bob")
    await sign_up_by_api(page, live_server, alice_email, verify=True)
    await page.goto("/sign-in")
    await sign_in(page, alice_email, STRONG_PASSWORD)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Organizations").click()
    await expect(page.get_by_role("heading", name="Organizations", level=1)).to_be_visible()
    await page.get_by_role("link", name="Create an organization").first.click()
    await expect(page.get_by_role("heading", name="Create an organization", level=1)).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("Acme Labs")
    await page.get_by_role("button", name="Create organization").click()
    await expect(page.get_by_role("heading", name="Acme Labs", level=1)).to_be_visible()
    await expect(page.locator("summary.orgswitch__button")).to_contain_text("Acme Labs")

    await page.get_by_role("link", name="Invitations").click()
    await page.get_by_label("Email", exact=True).fill(bob_email)
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page.locator("#notice-region")).to_contain_text("The invitation is on its way")
    invitation = await mail_to(live_server, bob_email)
    assert "Acme Labs" in invitation.subject
    link = invitation.link("/invitations/accept")

    bob = await open_page()
    await bob.goto(link)
    await expect(bob.get_by_role("heading", name="Join Acme Labs")).to_be_visible()
    await bob.get_by_role("link", name="Create an account").click()
    await expect(bob.get_by_role("button", name="Create account")).to_be_visible()
    await bob.get_by_label("Name", exact=True).fill("Bob Builder")
    await bob.get_by_label("Email", exact=True).fill(bob_email)
    await bob.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    await bob.get_by_role("button", name="Create account").click()
    await expect(bob.get_by_role("heading", name="Check your email")).to_be_visible()
    verify = (await mail_to(live_server, bob_email, 2)).link("/verify-email")
    await bob.goto(verify)
    await expect(bob.get_by_role("heading", name="Email verified")).to_be_visible()
    await bob.get_by_role("link", name="Sign in").click()
    await expect(bob.get_by_role("button", name="Sign in")).to_be_visible()
    await sign_in(bob, bob_email, STRONG_PASSWORD)
    await expect(bob.get_by_role("heading", name="Join Acme Labs")).to_be_visible()  # back on the invitation
    await bob.get_by_role("button", name="Accept and join").click()
    await expect(bob.locator("#notice-region")).to_contain_text("you are now a member")
    acme_id = await active_org(bob)
    assert acme_id is not None and acme_id in bob.url

    # Bob as a member: no admin actions on the pages, and refused when he tries anyway.
    await bob.get_by_role("link", name="Members").click()
    await expect(bob.locator(".member__name", has_text="Bob Builder")).to_be_visible()
    await expect(bob.get_by_role("button", name=re.compile("Change role|Remove"))).to_have_count(0)
    await bob.get_by_role("link", name="Invitations").click()
    await expect(bob.get_by_role("heading", name="Pending invitations")).to_be_visible()
    await expect(bob.get_by_role("button", name="Send invitation")).to_have_count(0)
    refused = await bob.request.post(
        "/api/auth/organization/invite-member",
        data={"email": unique_email("sneaky"), "role": "member"},
        headers={"origin": live_server.url},
    )
    assert refused.status == 403
    renamed = await bob.request.post(
        "/api/auth/organization/update", data={"data": {"name": "Bob's now"}}, headers={"origin": live_server.url}
    )
    assert renamed.status == 403

    # Both switch organizations with the switcher, from the keyboard.
    await create_org(bob, "Bob's Team")
    await expect(bob.locator("summary.orgswitch__button")).to_contain_text("Bob's Team")
    await switch_with_keyboard(bob, "Acme Labs")
    assert await active_org(bob) == acme_id
    await bob.keyboard.press("Escape")

    await create_org(page, "Second Co")
    assert await active_org(page) != acme_id
    await switch_with_keyboard(page, "Acme Labs")
    assert await active_org(page) == acme_id
    await page.goto(f"/organizations/{acme_id}/members")
    await expect(page.locator(".member__name", has_text="Bob Builder")).to_be_visible()
    await expect(page.get_by_role("button", name="Change role Bob Builder")).to_be_visible()
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    await assert_no_horizontal_scroll(page)
    # On a phone the open switcher stays on the screen, and every tab of the navigation is in sight.
    await page.locator("summary.orgswitch__button").click()
    menu = await page.locator(".orgswitch__menu").bounding_box()
    assert menu is not None and menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE_WIDTH
    for tab in await page.locator(".topnav__link").all():
        box = await tab.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
