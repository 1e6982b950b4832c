"""The console's pages: the users list (search, sort, keyset pages) and a user's page with its actions."""

from __future__ import annotations

import re

from litestar import Litestar

from tests.conftest import AppFactory, Inbox, reauthenticate
from tests.features.admin.conftest import People
from tests.features.admin.helpers import age_sessions, audit_events, person, session_ids, user_row

ROW = re.compile(r'<a class="break" href="/admin/users/([0-9a-f-]{36})">')
NEXT = re.compile(r'href="(/admin/users\?[^"]*after=[^"]+)"')


async def test_the_nav_entry_is_for_admins_only(app: Litestar, people: People) -> None:
    admin = await people("admin")
    plain = await people()
    assert 'href="/admin/users"' in (await admin.client.get("/account")).text
    assert 'href="/admin/users"' not in (await plain.client.get("/account")).text


async def test_users_are_searched_sorted_and_paged_by_keyset(make_app: AppFactory) -> None:
    app = make_app(admin={"page_size": 5})
    admin = await person(app, "admin")
    others = [await person(app) for _ in range(6)]
    try:
        first = await admin.client.get("/admin/users")
        assert first.status_code == 200
        assert "7 users" in first.text and len(ROW.findall(first.text)) == 5
        (next_page,) = NEXT.findall(first.text)
        second = await admin.client.get(next_page.replace("&amp;", "&"))
        ids = ROW.findall(first.text) + ROW.findall(second.text)
        assert len(ids) == len(set(ids)) == 7 and not NEXT.findall(second.text)
        assert "First page" in second.text
        found = await admin.client.get("/admin/users", params={"q": others[2].email.upper()})
        assert ROW.findall(found.text) == [others[2].id] and "1 user matching" in found.text
        by_email = await admin.client.get("/admin/users", params={"sort": "email"})
        emails = re.findall(r'href="/admin/users/[0-9a-f-]{36}">([^<]+)</a>', by_email.text)
        assert emails == sorted(emails)
        forged = await admin.client.get("/admin/users", params={"after": "garbage"})
        assert forged.status_code == 200 and "not valid" in forged.text
    finally:
        for each in [admin, *others]:
            await each.client.aclose()


async def test_the_user_page_shows_the_account_and_its_sessions(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    page = await admin.client.get(f"/admin/users/{target.id}")
    assert page.status_code == 200
    assert target.email in page.text and "Not verified" in page.text
    (session_id,) = await session_ids(app, target.id)
    assert f"/sessions/{session_id}/revoke" in page.text
    assert "Delete user" in page.text and "Ban user" in page.text
    mine = await admin.client.get(f"/admin/users/{admin.id}")
    assert "Ban user" not in mine.text and "Delete user" not in mine.text  # never oneself
    missing = await admin.client.get("/admin/users/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404


async def test_ban_unban_role_verify_and_revoke_from_the_page(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    base = f"/admin/users/{target.id}"
    bad = await admin.client.submit(base + "/ban", {"reason": "typed", "days": "9999"}, page=base)
    assert bad.status_code == 422 and "Choose how long the ban lasts." in bad.text and 'value="typed"' in bad.text
    banned = await admin.client.submit(base + "/ban", {"reason": "chargebacks", "days": "7"}, page=base)
    assert banned.status_code == 303 and banned.headers["location"] == base
    page = (await admin.client.get(base)).text
    assert "Banned" in page and "chargebacks" in page and "The user is banned" in page
    user = await user_row(app, target.id)
    assert user is not None and user.banned and user.ban_expires is not None
    assert await session_ids(app, target.id) == []
    assert (await admin.client.submit(base + "/unban", {}, page=base)).status_code == 303
    assert (await admin.client.submit(base + "/role", {"role": "support"}, page=base)).status_code == 303
    assert (await admin.client.submit(base + "/verify", {}, page=base)).status_code == 303
    user = await user_row(app, target.id)
    assert user is not None and not user.banned and user.role == "support" and user.email_verified
    events = [name for name, actor in await audit_events(app, target.id) if actor == admin.id]
    assert events == ["user.banned", "user.unbanned", "admin.role_set", "user.email_verified"]
    refused = await admin.client.submit(f"/admin/users/{admin.id}/role", {"role": "user"}, page=base)
    assert refused.status_code == 422 and "last admin" in refused.text


async def test_sessions_end_one_or_all_from_the_page(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    base = f"/admin/users/{target.id}"
    (session_id,) = await session_ids(app, target.id)
    one = await admin.client.submit(f"{base}/sessions/{session_id}/revoke", {}, page=base)
    assert one.status_code == 303 and await session_ids(app, target.id) == []
    assert (await admin.client.submit(f"{base}/sessions/revoke", {}, page=base)).status_code == 303


async def test_deleting_needs_the_address_typed(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    base = f"/admin/users/{target.id}"
    wrong = await admin.client.submit(base + "/delete", {"confirm": "someone@else.com"}, page=base)
    assert wrong.status_code == 422 and f"Type {target.email} to confirm" in wrong.text
    assert await user_row(app, target.id) is not None
    done = await admin.client.submit(base + "/delete", {"confirm": target.email.upper()}, page=base)
    assert done.status_code == 303 and done.headers["location"] == "/admin/users"
    assert await user_row(app, target.id) is None


async def test_a_stale_session_re_authenticates_and_comes_back_with_the_form(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    base = f"/admin/users/{target.id}"
    token = await admin.client.csrf(base)
    await age_sessions(app, 60 * 24)
    stale = await admin.client.post(base + "/ban", data={"reason": "late", "days": "30", "_csrf_token": token})
    assert stale.status_code == 303 and stale.headers["location"].startswith("/reauthenticate?")
    user = await user_row(app, target.id)
    assert user is not None and not user.banned
    back = await reauthenticate(admin.client, stale.headers["location"])
    assert back.startswith(base + "?resume=")
    kept = (await admin.client.get(back)).text
    assert 'value="late"' in kept and '<option value="30" selected>' in kept


async def test_a_password_reset_link_is_mailed_to_the_user_not_shown_to_the_admin(
    app: Litestar, people: People, inbox: Inbox
) -> None:
    admin = await people("admin")
    support = await people("support")
    target = await people()
    base = f"/admin/users/{target.id}"
    assert "Send password reset" in (await admin.client.get(base)).text
    assert "Send password reset" not in (await support.client.get(base)).text  # no user:set-password
    refused = await support.client.submit(base + "/reset-password", {}, page=base)
    assert refused.status_code == 403
    sent = await admin.client.submit(base + "/reset-password", {}, page=base)
    assert sent.status_code == 303 and sent.headers["location"] == base
    page = (await admin.client.get(base)).text
    assert "A password-reset link is on its way" in page and "/reset-password?token=" not in page
    link = (await inbox.last(target.email)).link("/reset-password")
    assert "token=" in link
    events = [name for name, actor in await audit_events(app, target.id) if actor == admin.id]
    assert events == ["admin.password_reset_sent"]


async def test_the_console_links_show_to_the_roles_that_may_open_them(app: Litestar, people: People) -> None:
    links = {"Dashboard": "/admin", "Users": "/admin/users", "Audit log": "/admin/audit"}
    for role, expected in (
        ("admin", set(links)),
        ("support", set(links)),  # support reads the log, finds users, sees the numbers
        ("user,support", set(links)),
        (None, set()),
    ):
        someone = await people(role)
        home = (await someone.client.get("/account")).text
        shown = {label for label, path in links.items() if f'href="{path}">{label}<' in home}
        assert shown == expected, (role, shown)
