"""Better Auth's admin API: shapes, the rules between people, fresh sessions, audit and rate limits."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, FrozenClock, unique_email
from tests.features.admin.conftest import People
from tests.features.admin.helpers import age_sessions, audit_events, person, session_ids, user_row


async def test_list_users_has_better_auths_shape_search_sort_and_offset(app: Litestar, people: People) -> None:
    admin = await people("admin")
    for _ in range(3):
        await people()
    answer = await admin.api("list-users", searchValue=admin.email, limit="5")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 1 and body["limit"] == 5 and "offset" not in body
    (found,) = body["users"]
    user_fields = {"id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt"}
    assert set(found) == user_fields | {"role", "banned", "banReason", "banExpires"}
    assert found["id"] == admin.id and found["role"] == "admin" and found["banned"] is False
    by_email = (await admin.api("list-users", sortBy="email", sortDirection="desc", limit=2, offset=1)).json()
    every = sorted((u["email"] for u in (await admin.api("list-users", limit=100)).json()["users"]), reverse=True)
    assert [u["email"] for u in by_email["users"]] == every[1:3] and by_email["offset"] == 1
    assert by_email["total"] == len(every)
    starts = await admin.api("list-users", searchValue="adm-", searchOperator="starts_with", searchField="email")
    assert starts.json()["total"] == len(every)
    nobody = await admin.api("list-users", searchValue="%", searchField="name")
    assert nobody.json() == {"users": [], "total": 0}  # a wildcard is a character like any other
    wrong = await admin.api("list-users", sortBy="password")
    assert wrong.status_code == 400 and wrong.json()["code"] == "VALIDATION_ERROR"


async def test_keyset_pages_walk_every_user_once(app: Litestar, people: People) -> None:
    admin = await people("admin")
    for _ in range(4):
        await people()
    for sort, direction in [("createdAt", "desc"), ("email", "asc"), ("name", "asc")]:
        seen: list[str] = []
        cursor = ""
        while True:
            answer = await admin.api("list-users", limit=2, sortBy=sort, sortDirection=direction, cursor=cursor)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            seen += [u["id"] for u in page["users"]]
            if page["nextCursor"] is None:
                break
            cursor = page["nextCursor"]
        assert len(seen) == len(set(seen)) == page["total"] == 5
    forged = await admin.api("list-users", cursor="bm90IGEgY3Vyc29y")
    assert forged.status_code == 400 and forged.json()["code"] == "VALIDATION_ERROR"


async def test_ban_ends_sessions_is_audited_and_unban_lifts_it(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    answer = await admin.api("ban-user", {"userId": target.id, "banReason": "spam", "banExpiresIn": 3600})
    assert answer.status_code == 200, answer.text
    user = answer.json()["user"]
    assert user["banned"] is True and user["banReason"] == "spam" and user["banExpires"].endswith("Z")
    assert await session_ids(app, target.id) == []
    assert (await target.client.get("/api/auth/get-session")).json() is None
    assert ("user.banned", admin.id) in await audit_events(app, target.id)
    lifted = await admin.api("unban-user", {"userId": target.id})
    assert lifted.json()["user"]["banned"] is False and lifted.json()["user"]["banReason"] is None
    assert ("user.unbanned", admin.id) in await audit_events(app, target.id)
    default = await admin.api("ban-user", {"userId": target.id})
    assert default.json()["user"]["banReason"] == "No reason" and default.json()["user"]["banExpires"] is None


async def test_no_one_bans_or_removes_themself_and_unknown_users_are_404(app: Litestar, people: People) -> None:
    admin = await people("admin")
    await people("admin")
    itself = await admin.api("ban-user", {"userId": admin.id})
    assert itself.status_code == 400 and itself.json()["code"] == "YOU_CANNOT_BAN_YOURSELF"
    gone = await admin.api("remove-user", {"userId": admin.id})
    assert gone.status_code == 400 and gone.json()["code"] == "YOU_CANNOT_REMOVE_YOURSELF"
    missing = await admin.api("ban-user", {"userId": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404 and missing.json()["code"] == "USER_NOT_FOUND"
    junk = await admin.api("get-user", id="not-an-id")
    assert junk.status_code == 404 and junk.json()["code"] == "USER_NOT_FOUND"
    assert not (await user_row(app, admin.id)).banned  # type: ignore[union-attr]


async def test_the_last_admin_cannot_be_demoted(app: Litestar, people: People) -> None:
    first = await people("admin")
    alone = await first.api("set-role", {"userId": first.id, "role": "user"})
    assert alone.status_code == 400 and alone.json() == {
        "code": "LAST_ADMIN",
        "message": "This is the last admin: make someone else admin first.",
    }
    second = await people()
    promoted = await first.api("set-role", {"userId": second.id, "role": ["admin", "support"]})
    assert promoted.status_code == 200 and promoted.json()["user"]["role"] == "admin,support"
    demoted = await second.api("set-role", {"userId": first.id, "role": "user"})
    assert demoted.status_code == 200, demoted.text
    assert ("admin.role_set", second.id) in await audit_events(app, first.id)
    again = await second.api("set-role", {"userId": second.id, "role": "support"})
    assert again.status_code == 400 and again.json()["code"] == "LAST_ADMIN"
    # The demoted admin is out of the console on their next request: the guard reads the role.
    assert (await first.api("list-users")).status_code == 404


async def test_nobody_grants_more_than_they_hold(app: Litestar, people: People) -> None:
    admin = await people("admin")
    support = await people("support")
    target = await people()
    up = await support.api("set-role", {"userId": target.id, "role": "admin"})
    assert up.status_code == 403 and up.json()["code"] == "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE"
    down = await support.api("set-role", {"userId": admin.id, "role": "user"})
    assert down.status_code == 403 and down.json()["code"] == "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE"
    sideways = await support.api("set-role", {"userId": target.id, "role": "support"})
    assert sideways.status_code == 200 and sideways.json()["user"]["role"] == "support"
    unknown = await admin.api("set-role", {"userId": target.id, "role": "superuser"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE"
    # A console user without a route's permission is told so (they know the console exists).
    ban = await support.api("ban-user", {"userId": target.id})
    assert ban.status_code == 403 and ban.json()["code"] == "FORBIDDEN"
    made = await support.api("create-user", {"email": unique_email(), "name": "X", "role": "admin"})
    assert made.status_code == 403
    assert (await user_row(app, admin.id)).role == "admin"  # type: ignore[union-attr]


async def test_has_permission_answers_for_the_callers_own_role(app: Litestar, people: People) -> None:
    admin = await people("admin")
    support = await people("support")
    yes = await admin.api("has-permission", {"permissions": {"user": ["ban", "delete"], "session": ["revoke"]}})
    assert yes.json() == {"error": None, "success": True}
    no = await support.api("has-permission", {"permissions": {"user": ["delete"]}, "role": "admin"})
    assert no.json() == {"error": None, "success": False}
    older = await support.api("has-permission", {"permission": {"session": ["revoke"]}})
    assert older.json()["success"] is True
    empty = await admin.api("has-permission", {})
    assert empty.status_code == 400


async def test_sessions_are_listed_and_revoked_one_or_all(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    async with Client(app=app, base_url=BASE_URL) as laptop:  # a second browser of theirs
        laptop.headers["origin"] = BASE_URL
        signed = await laptop.post("/api/auth/sign-in/email", json={"email": target.email, "password": STRONG_PASSWORD})
        assert signed.status_code == 200
    listed = (await admin.api("list-user-sessions", {"userId": target.id})).json()["sessions"]
    assert listed and set(listed[0]) >= {
        "id",
        "token",
        "userId",
        "expiresAt",
        "ipAddress",
        "userAgent",
        "impersonatedBy",
    }
    one = await admin.api("revoke-user-session", {"sessionToken": listed[0]["token"]})
    assert one.json() == {"success": True}
    assert listed[0]["id"] not in await session_ids(app, target.id)
    rest = await admin.api("revoke-user-sessions", {"userId": target.id})
    assert rest.json() == {"success": True} and await session_ids(app, target.id) == []
    assert ("session.revoked", admin.id) in await audit_events(app, listed[0]["id"])


async def test_create_user_and_set_password_then_they_sign_in(app: Litestar, people: People, client: Client) -> None:
    admin = await people("admin")
    email = unique_email("made")
    made = await admin.api(
        "create-user", {"email": email, "name": "Made", "password": STRONG_PASSWORD, "data": {"role": "support"}}
    )
    assert made.status_code == 200, made.text
    assert made.json()["user"]["role"] == "support" and made.json()["user"]["email"] == email
    again = await admin.api("create-user", {"email": email.upper(), "name": "Made"})
    assert again.status_code == 400 and again.json()["code"] == "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"
    signed = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert signed.status_code == 200, signed.text
    new_password = "a brand new passphrase 77"
    weak = await admin.api("set-user-password", {"userId": made.json()["user"]["id"], "newPassword": "short"})
    assert weak.status_code == 400 and weak.json()["code"] == "VALIDATION_ERROR"
    changed = await admin.api("set-user-password", {"userId": made.json()["user"]["id"], "newPassword": new_password})
    assert changed.json() == {"status": True}
    old = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/auth/sign-in/email", json={"email": email, "password": new_password})
    assert new.status_code == 200


async def test_remove_user_deletes_them_and_is_audited(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    answer = await admin.api("remove-user", {"userId": target.id})
    assert answer.json() == {"success": True}
    assert await user_row(app, target.id) is None
    assert ("user.deleted", admin.id) in await audit_events(app, target.id)


async def test_update_user_changes_the_profile_only(app: Litestar, people: People) -> None:
    admin, helper, target = await people("admin"), await people("support"), await people()
    answer = await admin.api("update-user", {"userId": target.id, "data": {"name": "  Grace  Hopper ", "image": ""}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == target.id and answer.json()["name"] == "Grace Hopper"
    row = await user_row(app, target.id)
    assert row is not None and row.name == "Grace Hopper"
    assert ("user.updated", admin.id) in await audit_events(app, target.id)
    for body, code in (
        ({"userId": target.id, "data": {"role": "admin"}}, "VALIDATION_ERROR"),  # roles have set-role
        ({"userId": target.id, "data": {}}, "VALIDATION_ERROR"),
        ({"userId": target.id, "data": {"image": "javascript:alert(1)"}}, "VALIDATION_ERROR"),
    ):
        refused = await admin.api("update-user", body)
        assert (refused.status_code, refused.json()["code"]) == (400, code), (body, refused.text)
    refused = await helper.api("update-user", {"userId": target.id, "data": {"name": "Nope"}})
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")  # support has no user:update
    row = await user_row(app, target.id)
    assert row is not None and row.name == "Grace Hopper" and row.role == "user"


async def test_changes_need_a_fresh_session_reading_does_not(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    await age_sessions(app, 60 * 24)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("ban-user", {"userId": target.id}),
        ("unban-user", {"userId": target.id}),
        ("set-role", {"userId": target.id, "role": "support"}),
        ("revoke-user-sessions", {"userId": target.id}),
        ("remove-user", {"userId": target.id}),
        ("set-user-password", {"userId": target.id, "newPassword": "another fine passphrase 9"}),
        ("create-user", {"email": unique_email(), "name": "Late"}),
    ]
    for path, body in calls:
        answer = await admin.api(path, body)
        assert answer.status_code == 403 and answer.json()["code"] == "SESSION_NOT_FRESH", path
    assert (await admin.api("list-users")).status_code == 200
    user = await user_row(app, target.id)
    assert user is not None and not user.banned and user.role == "user"


async def test_console_routes_are_rate_limited_per_client(make_app: AppFactory, clock: FrozenClock) -> None:
    app = make_app(admin={"rate_limit": 3})
    admin = await person(app, "admin")
    try:
        answers = [(await admin.api("list-users")).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        clock.advance(61)
        assert (await admin.api("list-users")).status_code == 200
    finally:
        await admin.client.aclose()
