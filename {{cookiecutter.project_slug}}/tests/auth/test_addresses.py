"""Addresses that look alike are one address, or refused: never a second account that looks the same."""

from __future__ import annotations

import pytest
from litestar import Litestar
from sqlmodel import select

from app.auth.models import User
from app.core.errors import InvalidInput
from tests.conftest import STRONG_PASSWORD, Client, Inbox, sign_up_api

FULLWIDTH_P = "\uff50"  # a full-width p: "paul" with it looks like "paul"
FULLWIDTH_E = "\uff45"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Paul@Example.COM", "paul@example.com"),
        (f"paul@{FULLWIDTH_P}ython.org", "paul@python.org"),  # a domain is folded by IDNA
        ("zoë@bücher.de", "zoë@bücher.de"),  # internationalised addresses keep working
        ("用户@例子.广告", "用户@例子.广告"),
    ],
)
def test_addresses_are_stored_in_one_spelling(app: Litestar, typed: str, stored: str) -> None:
    assert app.state.auth.normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        f"{FULLWIDTH_P}aul@example.com",
        "\uff30aul@example.com",  # full-width capital P
        "\ufb01le@example.com",  # the "fi" ligature
        "paul\u2460@example.com",  # a circled digit one
    ],
)
def test_a_local_part_that_compatibility_folding_changes_is_refused(app: Litestar, typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        app.state.auth.normalize_email(typed)
    assert refused.value.field == "email" and "look-alike" in refused.value.message


async def test_a_look_alike_address_is_no_second_account(client: Client, app: Litestar, inbox: Inbox) -> None:
    assert (await sign_up_api(client, "paul@example.com")).status_code == 200
    twin = await sign_up_api(client, f"{FULLWIDTH_P}aul@example.com")
    assert twin.status_code == 400 and twin.json()["code"] == "VALIDATION_ERROR"
    assert "look-alike" in twin.json()["message"]
    page = await client.submit(
        "/sign-up", {"name": "P", "email": f"{FULLWIDTH_P}aul@example.com", "password": STRONG_PASSWORD}
    )
    assert page.status_code == 422 and "look-alike" in page.text
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(User.email))).all() == ["paul@example.com"]
    # The folded domain is the same address: its owner is told, no account is made.
    again = await sign_up_api(client, f"paul@{FULLWIDTH_E}xample.com")
    assert again.status_code == 200
    assert "already" in (await inbox.last("paul@example.com")).subject.lower()
