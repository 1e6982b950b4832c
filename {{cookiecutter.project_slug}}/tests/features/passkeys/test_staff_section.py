"""The passkeys card that staff see on a user's page (UI.staff_sections): name, authenticator, dates, bounded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from litestar import Litestar

from app.features.passkeys.models import Passkey
from tests.conftest import BASE_URL, Client, signed_in
from tests.features.passkeys.authenticator import BE, BS, UP, UV
from tests.features.passkeys.helpers import authenticator, passkey_rows, register, sign_in
from tests.staff import staff_card

ICLOUD = bytes.fromhex("fbfc3007154e4ecc8c0b6e020557d7bd")  # an AAGUID the app knows: iCloud Keychain
ADDED = datetime(2031, 3, 2, 12, 0, tzinfo=UTC)  # fixed moments, far from the wall clock's


async def user_id(client: Client) -> str:
    found: str = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    return found


async def test_the_card_lists_the_passkeys_with_their_authenticator_and_use(app: Litestar, client: Client) -> None:
    await signed_in(client)
    phone = authenticator(aaguid=ICLOUD)
    assert (await register(client, phone, name="<b>Ada's phone</b>", flags=UP | UV | BE | BS)).status_code == 200
    assert (await register(client, authenticator(), name="Work key")).status_code == 200
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, phone)).status_code == 200
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await signed_in(other)
        assert (await register(other, authenticator(), name="Someone else's key")).status_code == 200

    card = await staff_card(app, "passkeys", await user_id(client))
    assert "&lt;b&gt;Ada&#39;s phone&lt;/b&gt;" in card and "<b>" not in card  # a name is text, never markup
    assert "iCloud Keychain" in card and card.count("Synced</span>") == 1  # the phone's, not the work key's
    assert card.count("Last used") == 1 and card.count("Not used yet") == 1
    assert card.index("Work key") < card.index("Ada&#39;s phone")  # newest first
    assert "Someone else" not in card
    for row in await passkey_rows(app):
        assert row.credential_id not in card


async def test_a_user_with_many_passkeys_shows_the_newest_twenty_and_the_count(app: Litestar, client: Client) -> None:
    await signed_in(client)
    owner = uuid.UUID(await user_id(client))
    async with app.state.db.sessions() as db:
        for n in range(21):
            db.add(
                Passkey(
                    user_id=owner,
                    name=f"Key {n:02d}",
                    credential_id=uuid.uuid4().hex,
                    public_key=b"\x00",
                    created_at=ADDED + timedelta(hours=n),
                )
            )
        await db.commit()

    card = await staff_card(app, "passkeys", owner)
    assert card.count('<li class="passkey">') == 20
    assert "Key 20" in card and "Key 01" in card and "Key 00" not in card
    assert "The newest 20 of 21 passkeys." in card
