"""A feature's card about one user for staff (`UI.staff_sections`), rendered as the page that shows it renders it.

Feature tests read their card through this, not through a staff page: the feature's tests must
pass in a project without the page (the admin console off), and the page's own tests check that
it includes every card.
"""

from __future__ import annotations

import uuid

from litestar import Litestar

from app.auth.models import User
from app.core.ui import UI, Section


def staff_section(app: Litestar, key: str) -> Section:
    """The enabled features' staff card with this key."""
    ui: UI = app.state.ui
    (section,) = [section for section in ui.staff_sections if section.key == key]
    return section


async def staff_card(app: Litestar, key: str, user_id: str | uuid.UUID) -> str:
    """The HTML of the card `key` about the user `user_id`, read from the database now."""
    section = staff_section(app, key)
    async with app.state.db.sessions() as db:
        user = await db.get(User, uuid.UUID(str(user_id)))
        assert user is not None, f"no user {user_id}"
        data = await section.context(db, user) if section.context is not None else {}
    engine = app.template_engine
    assert engine is not None, "the app renders no templates"
    html: str = engine.get_template(section.template).render(staff={key: data})
    return html
