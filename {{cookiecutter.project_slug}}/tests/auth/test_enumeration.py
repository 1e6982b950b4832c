"""Whether an address has an account must not show in answers, nor in how much hashing is done."""

from __future__ import annotations

import pytest
from litestar import Litestar

from tests.conftest import STRONG_PASSWORD, Client, Inbox, answered_before_the_link, sign_up_api, unique_email
from tests.core.test_security import count_hashing
from tests.mailbox import Mailbox


def _shape(body: dict[str, object]) -> dict[str, object]:
    user = body["user"]
    assert isinstance(user, dict)
    return {
        "token": body["token"],
        "keys": sorted(user),
        "email": user["email"],
        "name": user["name"],
        "emailVerified": user["emailVerified"],
    }


async def test_sign_up_with_a_taken_email_looks_like_success(client: Client, app: Litestar, inbox: Inbox) -> None:
    taken = unique_email()
    await sign_up_api(client, taken)
    calls = count_hashing(app)
    first = await sign_up_api(client, unique_email("fresh"))
    fresh_calls = dict(calls)
    second = await sign_up_api(client, taken)
    assert first.status_code == second.status_code == 200
    assert _shape(first.json())["keys"] == _shape(second.json())["keys"]
    assert _shape(second.json())["emailVerified"] is False and second.json()["token"] is None
    assert fresh_calls == {"hash": 1, "verify": 0}
    assert calls == {"hash": 2, "verify": 0}
    mails = await inbox.all(taken)
    assert "already" in mails[-1].subject.lower()  # the owner learns someone tried


async def test_unknown_email_and_wrong_password_cost_one_verify_each(client: Client, app: Litestar) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    calls = count_hashing(app)
    wrong = await client.post("/api/auth/sign-in/email", json={"email": email, "password": "wrong password 99"})
    assert calls == {"hash": 0, "verify": 1}
    unknown = await client.post(
        "/api/auth/sign-in/email", json={"email": unique_email(), "password": "wrong password 99"}
    )
    assert calls == {"hash": 0, "verify": 2}
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_reset_request_answers_the_same_for_unknown_addresses(
    client: Client, app: Litestar, inbox: Inbox
) -> None:
    email = unique_email()
    await sign_up_api(client, email)
    calls = count_hashing(app)
    known = await client.post("/api/auth/request-password-reset", json={"email": email})
    unknown_address = unique_email()
    unknown = await client.post("/api/auth/request-password-reset", json={"email": unknown_address})
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert calls == {"hash": 0, "verify": 0}
    assert "reset" in (await inbox.last(email)).subject.lower()
    assert await inbox.all(unknown_address) == []


async def test_html_sign_up_shows_the_same_page_for_a_taken_email(client: Client) -> None:
    taken = unique_email()
    await sign_up_api(client, taken)
    pages = []
    for email in (unique_email(), taken):
        response = await client.submit("/sign-up", {"name": "Ada", "email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 200
        pages.append(response.text.replace(email, "EMAIL"))
    strip = [p.split('name="_csrf_token" value="')[0] for p in pages]
    assert strip[0] == strip[1]


async def test_the_reset_answer_does_not_wait_for_the_link(
    client: Client, app: Litestar, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await answered_before_the_link(client, app, mailbox, monkeypatch, "/api/auth/request-password-reset", "reset")
