"""The organization API: create, update, delete, roles, the last owner, the active organization, audit."""

from __future__ import annotations

import pytest
from litestar import Litestar

from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, Inbox, unique_email
from tests.features.organizations.conftest import People
from tests.features.organizations.helpers import age_sessions, audit_events, create_org, invite_token, join, person


async def test_the_creator_is_owner_and_the_new_organization_is_active(people: People) -> None:
    (ada,) = await people(1)
    org = await create_org(ada, "Acme Inc", "acme-inc", logo="https://cdn.example.com/acme.png")
    assert org["slug"] == "acme-inc" and org["logo"] == "https://cdn.example.com/acme.png"
    assert [(m["role"], m["userId"]) for m in org["members"]] == [("owner", ada.id)]
    session = (await ada.client.get("/api/auth/get-session")).json()["session"]
    assert session["activeOrganizationId"] == org["id"]
    listed = (await ada.get("list")).json()
    assert [o["id"] for o in listed] == [org["id"]]
    kept = await create_org(ada, "Second", "second-org", keepCurrentActiveOrganization=True)
    session = (await ada.client.get("/api/auth/get-session")).json()["session"]
    assert session["activeOrganizationId"] == org["id"] != kept["id"]


@pytest.mark.parametrize(
    ("body", "field_message"),
    [
        ({"name": "", "slug": "x"}, "name"),
        ({"name": "A" * 101, "slug": "x"}, "name"),
        ({"name": "Acme", "slug": "Not a slug!"}, "lower-case"),
        ({"name": "Acme", "slug": "-edge"}, "lower-case"),
        ({"name": "Acme", "slug": "ok", "logo": "http://insecure.example.com/a.png"}, "https"),
        ({"name": "Acme", "slug": "ok", "logo": "javascript:alert(1)"}, "https"),
        ({"name": "Acme", "slug": "ok", "logo": "https://"}, "https"),
    ],
)
async def test_bad_input_is_a_clear_400(people: People, body: dict[str, str], field_message: str) -> None:
    (ada,) = await people(1)
    response = await ada.post("create", body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "VALIDATION_ERROR" and field_message in response.json()["message"].lower()
    assert (await ada.get("list")).json() == []


async def test_slugs_are_unique_and_editable(people: People) -> None:
    ada, bob = await people(2)
    first = await create_org(ada, "Acme", "acme-unique")
    taken = await bob.post("create", {"name": "Other", "slug": "acme-unique"})
    assert taken.status_code == 400 and taken.json()["code"] == "ORGANIZATION_SLUG_ALREADY_TAKEN"
    other = await create_org(bob, "Other", "other-unique")
    clash = await bob.post("update", {"organizationId": other["id"], "data": {"slug": "acme-unique"}})
    assert clash.status_code == 400 and clash.json()["code"] == "ORGANIZATION_SLUG_ALREADY_TAKEN"
    renamed = await ada.post(
        "update", {"organizationId": first["id"], "data": {"slug": "acme-renamed", "name": "Acme 2"}}
    )
    assert renamed.status_code == 200 and renamed.json()["slug"] == "acme-renamed"
    assert renamed.json()["name"] == "Acme 2"
    no_logo = await ada.post("update", {"organizationId": first["id"], "data": {"logo": ""}})
    assert no_logo.json()["logo"] is None


async def test_roles_decide_who_may_update(people: People, inbox: Inbox) -> None:
    owner, admin, member = await people(3)
    org = await create_org(owner)
    await join(owner, admin, inbox, org["id"], "admin")
    await join(owner, member, inbox, org["id"], "member")
    change = {"organizationId": org["id"], "data": {"name": "Renamed"}}
    assert (await admin.post("update", change)).status_code == 200
    refused = await member.post("update", change)
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    full = (await member.get("get-full-organization", organizationSlug=org["slug"])).json()
    assert (
        full["id"] == org["id"]
        and full["name"] == "Renamed"
        and {m["role"] for m in full["members"]} == {"owner", "admin", "member"}
    )


async def test_delete_is_for_owners_with_a_fresh_session(app: Litestar, people: People, inbox: Inbox) -> None:
    owner, admin = await people(2)
    org = await create_org(owner)
    await join(owner, admin, inbox, org["id"], "admin")
    denied = await admin.post("delete", {"organizationId": org["id"]})
    assert denied.status_code == 403
    await age_sessions(app, 60)
    stale = await owner.post("delete", {"organizationId": org["id"]})
    assert stale.status_code == 403 and stale.json()["code"] == "SESSION_NOT_FRESH"
    assert (await owner.get("get-full-organization", organizationId=org["id"])).status_code == 200
    await owner.client.post("/api/auth/sign-in/email", json={"email": owner.email, "password": STRONG_PASSWORD})
    done = await owner.post("delete", {"organizationId": org["id"]})
    assert done.status_code == 200, done.text
    for someone in (owner, admin):
        assert (await someone.get("get-full-organization", organizationId=org["id"])).status_code == 404
        assert (await someone.get("list")).json() == []
        session = (await someone.client.get("/api/auth/get-session")).json()["session"]
        assert session["activeOrganizationId"] is None


async def test_no_one_grants_or_touches_a_role_above_their_own(people: People, inbox: Inbox) -> None:
    owner, admin, member = await people(3)
    org = await create_org(owner)
    owner_member = org["members"][0]["id"]
    admin_member = await join(owner, admin, inbox, org["id"], "admin")
    member_id = await join(owner, member, inbox, org["id"])
    oid = {"organizationId": org["id"]}
    up = await admin.post("update-member-role", {**oid, "memberId": member_id, "role": "owner"})
    assert up.status_code == 403 and up.json()["code"] == "ROLE_ABOVE_YOUR_OWN"
    demote_owner = await admin.post("update-member-role", {**oid, "memberId": owner_member, "role": "member"})
    assert demote_owner.status_code == 403 and demote_owner.json()["code"] == "ROLE_ABOVE_YOUR_OWN"
    remove_owner = await admin.post("remove-member", {**oid, "memberIdOrEmail": owner_member})
    assert remove_owner.status_code == 403
    invite_owner = await admin.post("invite-member", {**oid, "email": "boss@example.com", "role": "owner"})
    assert invite_owner.status_code == 403 and invite_owner.json()["code"] == "ROLE_ABOVE_YOUR_OWN"
    promote = await admin.post("update-member-role", {**oid, "memberId": member_id, "role": "admin"})
    assert promote.status_code == 200 and promote.json()["role"] == "admin"
    self_promote = await admin.post("update-member-role", {**oid, "memberId": admin_member, "role": "owner"})
    assert self_promote.status_code == 403
    bad_role = await owner.post("update-member-role", {**oid, "memberId": member_id, "role": "god"})
    assert bad_role.status_code == 400
    removed = await admin.post("remove-member", {**oid, "memberIdOrEmail": member.email})
    assert removed.status_code == 200
    assert (await member.get("get-full-organization", **oid)).status_code == 404


async def test_the_last_owner_cannot_leave_be_removed_or_be_demoted(people: People, inbox: Inbox) -> None:
    owner, second = await people(2)
    org = await create_org(owner)
    owner_member = org["members"][0]["id"]
    oid = {"organizationId": org["id"]}
    for path, body in (
        ("leave", oid),
        ("update-member-role", {**oid, "memberId": owner_member, "role": "admin"}),
        ("remove-member", {**oid, "memberIdOrEmail": owner_member}),
    ):
        refused = await owner.post(path, body)
        assert refused.status_code == 400 and refused.json()["code"] == "LAST_OWNER", (path, refused.text)
    second_member = await join(owner, second, inbox, org["id"], "owner")
    demoted = await second.post("update-member-role", {**oid, "memberId": owner_member, "role": "admin"})
    assert demoted.status_code == 200
    last = await second.post("leave", oid)
    assert last.status_code == 400 and last.json()["code"] == "LAST_OWNER"
    await second.post("update-member-role", {**oid, "memberId": owner_member, "role": "owner"})
    assert (await second.post("leave", oid)).status_code == 200
    members = (await owner.get("list-members", **oid)).json()
    assert members["total"] == 1 and second_member not in {m["id"] for m in members["members"]}


async def test_set_active_and_the_last_used_organization_comes_back_at_sign_in(
    app: Litestar, people: People, inbox: Inbox
) -> None:
    ada, bob = await people(2)
    first = await create_org(ada, "First")
    second = await create_org(ada, "Second")
    foreign = await create_org(bob, "Foreign")
    assert (await ada.post("set-active", {"organizationId": foreign["id"]})).status_code == 404
    assert (await ada.post("set-active", {"organizationId": "not-an-id"})).status_code == 404
    chosen = await ada.post("set-active", {"organizationId": first["id"]})
    assert chosen.status_code == 200 and chosen.json()["id"] == first["id"]
    by_slug = await ada.post("set-active", {"organizationSlug": second["slug"]})
    assert by_slug.json()["id"] == second["id"]
    async with Client(app=app, base_url=BASE_URL) as laptop:
        laptop.headers["origin"] = BASE_URL
        await laptop.post("/api/auth/sign-in/email", json={"email": ada.email, "password": STRONG_PASSWORD})
        session = (await laptop.get("/api/auth/get-session")).json()["session"]
        assert session["activeOrganizationId"] == second["id"]
        # the active organization is what calls without organizationId act on
        assert (await laptop.get("/api/auth/organization/get-full-organization")).json()["id"] == second["id"]
    cleared = await ada.post("set-active", {"organizationId": None})
    assert cleared.status_code == 200 and cleared.json() is None
    missing = await ada.get("get-full-organization")
    assert missing.status_code == 404


async def test_every_change_is_an_event_in_the_audit_log(app: Litestar, people: People, inbox: Inbox) -> None:
    owner, other = await people(2)
    org = await create_org(owner)
    oid = {"organizationId": org["id"]}
    await owner.post("update", {**oid, "data": {"name": "Renamed"}})
    member_id = await join(owner, other, inbox, org["id"])
    await owner.post("update-member-role", {**oid, "memberId": member_id, "role": "admin"})
    invitation = (await owner.post("invite-member", {**oid, "email": "later@example.com"})).json()
    await owner.post("invite-member", {**oid, "email": "later@example.com", "resend": True})
    await owner.post("cancel-invitation", {"invitationId": invitation["id"]})
    await owner.post("remove-member", {**oid, "memberIdOrEmail": member_id})
    await join(owner, other, inbox, org["id"])
    assert (await other.post("leave", oid)).status_code == 200
    declined = unique_email("declines")
    token = await invite_token(owner, inbox, org["id"], declined)
    async with Client(app=app, base_url=BASE_URL) as stranger:
        stranger.headers["origin"] = BASE_URL
        refused = await stranger.submit(
            "/invitations/decline", {"token": token}, page=f"/invitations/accept?token={token}"
        )
        assert refused.status_code == 200
    await owner.post("set-active", oid)
    await owner.post("delete", oid)
    events = await audit_events(app)
    for name in (
        "organization.created",
        "organization.updated",
        "organization.member_added",
        "organization.invitation_created",
        "organization.invitation_accepted",
        "organization.member_role_updated",
        "organization.invitation_resent",
        "organization.invitation_canceled",
        "organization.member_removed",
        "organization.member_left",
        "organization.invitation_rejected",
        "organization.active_changed",
        "organization.deleted",
    ):
        assert name in events, name


async def test_bad_ids_and_bodies_are_clean_errors(people: People) -> None:
    (ada,) = await people(1)
    org = await create_org(ada)
    oid = {"organizationId": org["id"]}
    assert (await ada.post("update-member-role", {**oid, "memberId": "nope", "role": "admin"})).status_code == 404
    assert (await ada.post("remove-member", {**oid, "memberIdOrEmail": "nope"})).status_code == 404
    assert (await ada.post("cancel-invitation", {"invitationId": "nope"})).status_code == 404
    assert (await ada.get("list-members", organizationId="nope")).status_code == 404
    broken = await ada.client.post(
        "/api/auth/organization/update", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert (await ada.post("update", {"organizationId": org["id"]})).status_code == 400
    unauthenticated = await Client(app=ada.client.app, base_url=BASE_URL).get("/api/auth/organization/list")
    assert unauthenticated.status_code == 401


async def test_the_last_owner_cannot_delete_their_account_while_others_remain(people: People, inbox: Inbox) -> None:
    owner, member = await people(2)
    shared = await create_org(owner, "Shared")
    alone = await create_org(owner, "Alone")
    await join(owner, member, inbox, shared["id"])
    refused = await owner.client.post("/api/auth/delete-user", json={"password": STRONG_PASSWORD})
    assert refused.status_code == 400 and refused.json()["code"] == "LAST_OWNER"
    assert "Shared" in refused.json()["message"]
    assert len((await owner.get("list")).json()) == 2
    member_id = (await member.get("list-members", organizationId=shared["id"])).json()["members"][-1]["id"]
    promoted = await owner.post(
        "update-member-role", {"organizationId": shared["id"], "memberId": member_id, "role": "owner"}
    )
    assert promoted.status_code == 200
    deleted = await owner.client.post("/api/auth/delete-user", json={"password": STRONG_PASSWORD})
    assert deleted.status_code == 200, deleted.text
    assert [o["id"] for o in (await member.get("list")).json()] == [shared["id"]]
    assert (await member.get("get-full-organization", organizationId=alone["id"])).status_code == 404


async def test_with_the_cookie_cache_the_active_organization_follows_this_browser(make_app: AppFactory) -> None:
    """get-session keeps `activeOrganizationId` with the session snapshot, and any change drops the snapshot."""
    app = make_app(auth={"cookie_cache": True, "cookie_cache_max_age": 300})
    ada = await person(app)
    try:

        async def active() -> str | None:
            answer = await ada.client.get("/api/auth/get-session")
            assert "session_cache" in ada.client.cookies  # answered from, or with, a snapshot
            found: str | None = answer.json()["session"]["activeOrganizationId"]
            return found

        first = await create_org(ada, "First")
        assert await active() == first["id"]
        assert await active() == first["id"]  # from the snapshot, read once
        second = await create_org(ada, "Second")  # the new organization becomes active
        assert "session_cache" not in ada.client.cookies  # the snapshot was dropped ...
        assert await active() == second["id"]  # ... so the next request reads the session again
        assert (await ada.post("set-active", {"organizationId": first["id"]})).status_code == 200
        assert await active() == first["id"]
        switched = await ada.client.submit(  # the switcher in the page header
            "/organizations/switch", {"organizationId": second["id"], "next": "/organizations"}, page="/organizations"
        )
        assert switched.status_code == 303
        assert await active() == second["id"]
    finally:
        await ada.client.aclose()
        await app.state.mailer.drain()


async def test_a_nul_in_a_slug_or_an_address_is_not_found_not_a_500(people: People) -> None:
    """PostgreSQL refuses a NUL in a text parameter: no such slug or member is looked up at all."""
    (ada,) = await people(1)
    org = await create_org(ada, "Nul")
    assert (await ada.get("get-full-organization", organizationSlug="a\x00b")).status_code == 404
    assert (await ada.post("set-active", {"organizationSlug": "a\u0000"})).status_code == 404
    removed = await ada.post("remove-member", {"memberIdOrEmail": "a\u0000b@example.com", "organizationId": org["id"]})
    assert 400 <= removed.status_code < 500
