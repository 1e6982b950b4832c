"""Reading the "Sign-in" card of a user's page in the console, and linking accounts as a provider feature would."""

from __future__ import annotations

import re
import uuid

from litestar import Litestar

from app.auth.models import Account

SIGN_IN_CARD = re.compile(r'<section class="card" id="sign-in-card".*?</section>', re.S)


def sign_in_card(html: str) -> str:
    """The card's HTML, out of the whole page."""
    found = SIGN_IN_CARD.search(html)
    assert found is not None, "no Sign-in card on the page"
    return found.group(0)


def fact(card: str, name: str) -> str:
    """The value of one row of the card as read, tags and spacing dropped: "Yes", "None", "Acme sso"."""
    found = re.search(rf"<dt>{name}</dt><dd>(.*?)</dd>", card, re.S)
    assert found is not None, f"no {name} in the card"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def link(app: Litestar, user_id: str, provider_id: str) -> None:
    """An account of `provider_id` for the user, as a feature that links one writes it."""
    async with app.state.db.sessions() as db:
        db.add(Account(user_id=uuid.UUID(user_id), provider_id=provider_id, account_id=uuid.uuid4().hex))
        await db.commit()
