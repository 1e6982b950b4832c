"""A user's page in the console: how they sign in, and the cards the enabled features add about them.

It passes whatever features are on: a provider id that no feature labels is inserted straight into
`account`. The features' own tests check their words on this page, and their cards.
"""

from __future__ import annotations

import uuid

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col

from app.auth.models import CREDENTIAL_PROVIDER, Account
from app.core.ui import UI
from tests.features.admin.conftest import People
from tests.features.admin.sign_in_card import fact, link, sign_in_card
from tests.staff import staff_card


async def drop_password(app: Litestar, user_id: str) -> None:
    async with app.state.db.sessions() as db:
        await db.exec(
            update(Account)
            .where(col(Account.user_id) == uuid.UUID(user_id), col(Account.provider_id) == CREDENTIAL_PROVIDER)
            .values(password_hash=None)
        )
        await db.commit()


async def test_the_sign_in_card_shows_the_password_and_the_linked_providers(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    other = await people()
    await link(app, other.id, "other-idp")
    card = sign_in_card((await admin.client.get(f"/admin/users/{target.id}")).text)
    assert fact(card, "Password") == "Yes"
    assert fact(card, "Linked accounts") == "None" and fact(card, "Second factors") == "None"

    await link(app, target.id, "acme-sso")
    await link(app, target.id, "acme-sso")  # a second account of the same provider: named once
    await drop_password(app, target.id)
    card = sign_in_card((await admin.client.get(f"/admin/users/{target.id}")).text)
    assert fact(card, "Password") == "No"  # an account row without a password is no way in
    assert fact(card, "Linked accounts") == "Acme sso"  # no feature labels it: its id in words
    assert "Other idp" not in card


async def test_support_sees_the_card_and_names_are_text_not_markup(app: Litestar, people: People) -> None:
    support = await people("support")
    target = await people()
    await link(app, target.id, "<script>alert(1)</script>")
    page = (await support.client.get(f"/admin/users/{target.id}")).text
    card = sign_in_card(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card and "<script>alert" not in page


async def test_every_staff_card_of_the_enabled_features_is_on_the_page(app: Litestar, people: People) -> None:
    admin = await people("admin")
    target = await people()
    page = await admin.client.get(f"/admin/users/{target.id}")
    assert page.status_code == 200 and "Sign-in" in page.text
    ui: UI = app.state.ui
    for section in ui.staff_sections:  # none in a project without such features: the page still renders
        assert await staff_card(app, section.key, target.id) in page.text, section.key
