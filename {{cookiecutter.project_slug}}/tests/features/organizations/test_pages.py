"""The organization pages: actions shown only to permitted roles, forms with inline errors, the switcher, escaping."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from litestar import Litestar

from tests.conftest import Inbox, reauthenticate
from tests.features.organizations.conftest import People
from tests.features.organizations.helpers import age_sessions, create_org, join

EVIL = '<script>alert("x")</script>&<img src=x>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&lt;img src=x&gt;"


async def test_create_from_the_form_with_inline_errors_kept(people: People) -> None:
    (ada,) = await people(1)
    bad = await ada.client.submit("/organizations/new", {"name": "Acme", "slug": "Bad Slug!", "logo": ""})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and 'value="Bad Slug!"' in bad.text
    bad_logo = await ada.client.submit("/organizations/new", {"name": "Acme", "slug": "", "logo": "ftp://x"})
    assert bad_logo.status_code == 422 and "https://" in bad_logo.text and 'value="ftp://x"' in bad_logo.text
    done = await ada.client.submit("/organizations/new", {"name": "Acme Corp", "slug": "", "logo": ""})
    assert done.status_code == 303, done.text
    page = await ada.client.get(done.headers["location"])
    assert "The organization is created" in page.text and "acme-corp" in page.text
    listed = await ada.client.get("/organizations")
    assert "Acme Corp" in listed.text and "Active" in listed.text


async def test_members_see_no_admin_actions_admins_and_owners_see_theirs(people: People, inbox: Inbox) -> None:
    owner, admin, member = await people(3, "Olive Owner", "Adam Admin", "Mia Member")
    org = await create_org(owner)
    await join(owner, admin, inbox, org["id"], "admin")
    await join(owner, member, inbox, org["id"])
    base = f"/organizations/{org['id']}"
    as_member = await member.client.get(base + "/members")
    assert as_member.status_code == 200 and "Mia Member" in as_member.text and "Olive Owner" in as_member.text
    assert "Change role" not in as_member.text and ">Remove<" not in as_member.text.replace("\n", "")
    assert "/remove" not in as_member.text and "/role" not in as_member.text
    assert "Send invitation" not in (await member.client.get(base + "/invitations")).text
    general = await member.client.get(base)
    assert 'name="slug"' not in general.text and "Delete organization" not in general.text
    assert (await member.client.get(base + "/delete")).status_code == 403
    as_admin = await admin.client.get(base + "/members")
    assert as_admin.text.count("Change role") == 2  # admins and members, not the owner above them
    assert "Send invitation" in (await admin.client.get(base + "/invitations")).text
    assert "Delete organization" not in (await admin.client.get(base)).text
    as_owner = await owner.client.get(base + "/members")
    assert as_owner.text.count("Change role") == 3 and '<option value="owner"' in as_owner.text
    assert "Delete organization" in (await owner.client.get(base)).text


async def test_roles_and_members_change_from_the_page(people: People, inbox: Inbox) -> None:
    owner, member = await people(2, "Olive Owner", "Mia Member")
    org = await create_org(owner)
    member_id = await join(owner, member, inbox, org["id"])
    base = f"/organizations/{org['id']}"
    changed = await owner.client.submit(f"{base}/members/{member_id}/role", {"role": "admin"}, page=base + "/members")
    assert changed.status_code == 303 and changed.headers["location"].endswith("/members")
    owner_member = org["members"][0]["id"]
    last = await owner.client.submit(f"{base}/members/{owner_member}/role", {"role": "member"}, page=base + "/members")
    assert last.status_code == 422 and "needs an owner" in last.text
    leave = await owner.client.submit(f"{base}/leave", {}, page=base + "/members")
    assert leave.status_code == 422 and "needs an owner" in leave.text
    removed = await owner.client.submit(f"{base}/members/{member_id}/remove", {}, page=base + "/members")
    assert removed.status_code == 303
    assert (await member.client.get(base)).status_code == 404


async def test_invite_resend_and_cancel_from_the_page(people: People, inbox: Inbox) -> None:
    (owner,) = await people(1)
    org = await create_org(owner)
    base = f"/organizations/{org['id']}/invitations"
    invalid = await owner.client.submit(base, {"email": "nope", "role": "member"})
    assert invalid.status_code == 422 and 'value="nope"' in invalid.text
    sent = await owner.client.submit(base, {"email": "guest@example.com", "role": "admin"})
    assert sent.status_code == 303
    first = await inbox.last("guest@example.com")
    listing = await owner.client.get(base)
    assert "guest@example.com" in listing.text and "Resend" in listing.text
    (invitation,) = (await owner.get("list-invitations", organizationId=org["id"])).json()
    resent = await owner.client.submit(f"{base}/{invitation['id']}/resend", {}, page=base)
    assert resent.status_code == 303
    second = await inbox.last("guest@example.com")
    old_token = parse_qs(urlsplit(first.link("/invitations/accept")).query)["token"][0]
    assert second.text != first.text
    assert (await owner.client.get(f"/invitations/accept?token={old_token}")).status_code == 400
    canceled = await owner.client.submit(f"{base}/{invitation['id']}/cancel", {}, page=base)
    assert canceled.status_code == 303
    assert "No invitations are waiting" in (await owner.client.get(base)).text


async def test_delete_needs_the_typed_slug_and_a_fresh_session(app: Litestar, people: People) -> None:
    (owner,) = await people(1)
    org = await create_org(owner)
    page = f"/organizations/{org['id']}/delete"
    wrong = await owner.client.submit(page, {"confirm": "not-it"})
    assert (
        wrong.status_code == 422 and f"Type {org['slug']} to confirm" in wrong.text and 'value="not-it"' in wrong.text
    )
    await age_sessions(app, 60)
    stale = await owner.client.submit(page, {"confirm": org["slug"]})
    assert stale.status_code == 303 and stale.headers["location"].startswith("/reauthenticate?")
    back = await reauthenticate(owner.client, stale.headers["location"])
    kept = await owner.client.get(back)
    assert f'value="{org["slug"]}"' in kept.text  # the typed confirmation survived the detour
    done = await owner.client.submit(page, {"confirm": org["slug"]})
    assert done.status_code == 303 and done.headers["location"] == "/organizations"
    assert "The organization has been deleted." in (await owner.client.get("/organizations")).text
    assert (await owner.get("list")).json() == []


async def test_the_switcher_leaves_a_pending_notice_to_the_next_page(people: People) -> None:
    """The switcher of the page being left may load after a notice is set (a passkey added, then
    the page reloads): it neither shows nor clears the notice, the next page shows it."""
    (ada,) = await people(1)
    ada.client.cookies.set("flash", "profile-updated")
    fragment = await ada.client.get("/organizations/switcher", headers={"hx-request": "true"})
    assert fragment.status_code == 200 and "profile has been saved" not in fragment.text
    assert "flash" not in fragment.headers.get("set-cookie", "")
    boosted = await ada.client.get("/account", headers={"hx-request": "true", "hx-boosted": "true"})
    assert "Your profile has been saved." in boosted.text
    assert 'flash=""' in boosted.headers["set-cookie"]  # shown once


async def test_the_switcher_lists_the_organizations_and_switches(people: People) -> None:
    (ada,) = await people(1)
    first = await create_org(ada, "First Org")
    second = await create_org(ada, "Second Org")
    fragment = await ada.client.get("/organizations/switcher", headers={"hx-request": "true"})
    assert fragment.status_code == 200 and "<details" in fragment.text
    assert f'value="{second["id"]}" class="orgswitch__item" aria-current="true"' in fragment.text
    switched = await ada.client.submit(
        "/organizations/switch", {"organizationId": first["id"], "next": "/account"}, page="/organizations"
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/account"
    session = (await ada.client.get("/api/auth/get-session")).json()["session"]
    assert session["activeOrganizationId"] == first["id"]
    # from another organization's settings, the switch lands on the new one's settings
    elsewhere = await ada.client.submit(
        "/organizations/switch",
        {"organizationId": second["id"], "next": f"/organizations/{first['id']}/members"},
        page="/organizations",
    )
    assert elsewhere.headers["location"] == f"/organizations/{second['id']}"
    evil_next = await ada.client.submit(
        "/organizations/switch", {"organizationId": first["id"], "next": "//evil.example"}, page="/organizations"
    )
    assert evil_next.headers["location"] == "/organizations"
    bad = await ada.client.submit("/organizations/switch", {"organizationId": "x"}, page="/organizations")
    assert bad.status_code == 404
    home = await ada.client.get("/account")
    assert 'hx-get="/organizations/switcher"' in home.text


async def test_html_in_names_is_escaped_everywhere(people: People, inbox: Inbox) -> None:
    owner, member = await people(2, EVIL, EVIL)
    org = await create_org(owner, EVIL)
    await join(owner, member, inbox, org["id"], "admin")
    base = f"/organizations/{org['id']}"
    await owner.post("invite-member", {"organizationId": org["id"], "email": "later@example.com"})
    mail = await inbox.last("later@example.com")
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    token = parse_qs(urlsplit(mail.link("/invitations/accept")).query)["token"][0]
    pages = [
        "/organizations",
        base,
        base + "/members",
        base + "/invitations",
        base + "/delete",
        "/organizations/switcher",
        f"/invitations/accept?token={token}",
    ]
    for path in pages:
        response = await owner.client.get(path)
        assert response.status_code == 200, path
        assert "<script>alert" not in response.text and "<img src=x>" not in response.text, path
        assert ESCAPED in response.text, path


async def test_deleting_the_account_of_a_last_owner_is_a_clear_refusal(people: People, inbox: Inbox) -> None:
    owner, member = await people(2)
    org = await create_org(owner, "Kept Org")
    await join(owner, member, inbox, org["id"])
    refused = await owner.client.submit("/account/delete", {"confirm": owner.email}, page="/account/security")
    assert refused.status_code == 400 and "You are the last owner of Kept Org" in refused.text
    assert (await owner.client.get("/api/auth/get-session")).json() is not None
