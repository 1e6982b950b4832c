"""The console's user page names the second factors the user turned on (pruned with either feature)."""

from __future__ import annotations

from litestar import Litestar

from tests.features.admin.helpers import person
from tests.features.admin.sign_in_card import fact, sign_in_card
from tests.features.two_factor.helpers import enable_two_factor


async def test_the_sign_in_card_lists_the_authenticator_app_and_recovery_codes(app: Litestar) -> None:
    admin = await person(app, "admin")
    target = await person(app)
    bystander = await person(app)
    try:
        await enable_two_factor(target.client)
        card = sign_in_card((await admin.client.get(f"/admin/users/{target.id}")).text)
        assert fact(card, "Second factors") == "Authenticator app Recovery code"
        assert fact(card, "Password") == "Yes"
        other = sign_in_card((await admin.client.get(f"/admin/users/{bystander.id}")).text)
        assert fact(other, "Second factors") == "None"
    finally:
        for each in (admin, target, bystander):
            await each.client.aclose()
