"""The API keys card that staff see on a user's page (UI.staff_sections): never the key, bounded, escaped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col

from app.core.db import utcnow
from app.features.api_keys.models import ApiKey
from tests.conftest import BASE_URL, Client, signed_in
from tests.features.api_keys.helpers import create_key, key_rows
from tests.staff import staff_card

CREATED = datetime(2031, 3, 2, 12, 0, tzinfo=UTC)  # fixed moments, far from the wall clock's


async def user_id(client: Client) -> str:
    found: str = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    return found


async def test_the_card_lists_the_keys_with_their_state_and_never_the_secret(app: Litestar, client: Client) -> None:
    await signed_in(client)
    live = await create_key(client, '<script>alert("x")</script>', scopes=["read"])
    gone = await create_key(client, "Old laptop")
    stale = await create_key(client, "Last year's cron")
    revoked = await client.post("/api/auth/api-key/delete", json={"keyId": gone["id"]})
    assert revoked.status_code == 200, revoked.text
    async with app.state.db.sessions() as db:
        past = utcnow() - timedelta(days=1)
        await db.exec(update(ApiKey).where(col(ApiKey.id) == uuid.UUID(stale["id"])).values(expires_at=past))
        await db.commit()
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await signed_in(other)
        await create_key(other, "Someone else's key")

    card = await staff_card(app, "api_keys", await user_id(client))
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in card and "<script>" not in card
    assert live["start"] + "…" in card and "Old laptop" in card and "Last year&#39;s cron" in card
    assert "Someone else" not in card
    assert card.count("Enabled</span>") == 1 and card.count("Revoked</span>") == 1
    assert card.count("Expired</span>") == 1
    for key in [live, gone, stale]:
        assert key["key"] not in card
    for row in await key_rows(app):
        assert row.key_hash not in card


async def test_a_user_with_many_keys_shows_the_newest_twenty_and_the_count(app: Litestar, client: Client) -> None:
    await signed_in(client)
    owner = uuid.UUID(await user_id(client))
    async with app.state.db.sessions() as db:
        for n in range(23):
            db.add(
                ApiKey(
                    user_id=owner,
                    name=f"Key {n:02d}",
                    prefix="ak_",
                    start=f"ak_{n:06d}",
                    key_hash=uuid.uuid4().hex * 2,
                    created_at=CREATED + timedelta(hours=n),
                )
            )
        await db.commit()

    card = await staff_card(app, "api_keys", owner)
    assert card.count('<li class="api-key">') == 20
    assert "Key 22" in card and "Key 03" in card and "Key 02" not in card
    assert "The newest 20 of 23 keys." in card
