"""The console's user page names the providers a user linked, in the feature's words (pruned with either feature)."""

from __future__ import annotations

from litestar import Litestar

from tests.conftest import Client
from tests.features.admin.helpers import person
from tests.features.admin.sign_in_card import fact, link, sign_in_card
from tests.features.oauth.conftest import sign_in_with_provider


async def test_a_user_who_signed_up_with_a_provider_has_it_and_no_password(app: Litestar, client: Client) -> None:
    callback = await sign_in_with_provider(client)
    assert callback.status_code == 303, callback.text
    user_id = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    await link(app, user_id, "github")  # as a second provider would link it
    admin = await person(app, "admin")
    try:
        card = sign_in_card((await admin.client.get(f"/admin/users/{user_id}")).text)
    finally:
        await admin.client.aclose()
    assert fact(card, "Password") == "No"
    assert fact(card, "Linked accounts") == "Single sign-on GitHub"  # oldest link first
