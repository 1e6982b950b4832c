"""The organizations card that staff see on a user's page (UI.staff_sections): memberships, bounded, escaped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from litestar import Litestar

from app.features.organizations.models import Member, Organization
from tests.conftest import Inbox
from tests.features.organizations.conftest import People
from tests.features.organizations.helpers import create_org, join
from tests.staff import staff_card

EVIL = '<script>alert("x")</script>&<img src=x>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&lt;img src=x&gt;"
JOINED = datetime(2031, 3, 2, 12, 0, tzinfo=UTC)  # fixed moments, far from the wall clock's


async def test_the_card_shows_each_organization_with_its_slug_and_the_users_role(
    app: Litestar, people: People, inbox: Inbox
) -> None:
    ada, bob = await people(2)
    shared = await create_org(ada, EVIL, slug="evil-corp")
    await join(ada, bob, inbox, shared["id"], role="admin")
    await create_org(bob, "Bob's Bakery", slug="bobs-bakery")
    await create_org(ada, "Ada Analytics", slug="ada-analytics")

    card = await staff_card(app, "organizations", bob.id)
    assert ESCAPED in card and EVIL not in card  # a name is text, never markup
    assert "evil-corp · Admin · joined" in card and "bobs-bakery · Owner · joined" in card
    assert "Ada Analytics" not in card  # someone else's organization
    assert card.index("Bob&#39;s Bakery") < card.index(ESCAPED)  # newest first
    assert "Ada Analytics" in await staff_card(app, "organizations", ada.id)


async def test_a_user_in_many_organizations_shows_the_newest_twenty_and_the_count(
    app: Litestar, people: People
) -> None:
    (ada,) = await people(1)
    user_id = uuid.UUID(ada.id)
    async with app.state.db.sessions() as db:
        for n in range(22):
            org = Organization(name=f"Team {n:02d}", slug=f"team-{n:02d}-{uuid.uuid4().hex[:8]}")
            db.add(org)
            await db.flush()
            db.add(
                Member(organization_id=org.id, user_id=user_id, role="member", created_at=JOINED + timedelta(days=n))
            )
        await db.commit()

    card = await staff_card(app, "organizations", ada.id)
    assert card.count('<li class="org">') == 20
    assert "Team 21" in card and "Team 02" in card and "Team 01" not in card and "Team 00" not in card
    assert "The newest 20 of 22 organizations." in card
    assert "Not a member" in await staff_card(app, "organizations", (await people(1))[0].id)
