from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit, Principal
from app.core.event_catalogue import THE_USER, EventInfo
from app.core.ui import UI, Section
from app.features.base import Feature
from app.features.two_factor.routes import API
from app.features.two_factor.service import (
    CODES_REGENERATED,
    DISABLED,
    ENABLED,
    FAILED,
    STATE_KEY,
    USED,
    RecoveryCodeFactor,
    TotpFactor,
    TwoFactorService,
    status,
)
from app.features.two_factor.views import VIEWS
from app.settings import Settings

HERE = Path(__file__).resolve().parent

NOTICES = {
    "two-factor-disabled": "Two-step verification is off.",
    "second-factor-too-many": "Too many wrong codes. Sign in again.",
}

EVENTS = {
    ENABLED: EventInfo("The user turned two-step verification on with a code from their app", THE_USER, "user"),
    DISABLED: EventInfo(
        "The user turned two-step verification off: its key, recovery codes and trusted browsers went", THE_USER, "user"
    ),
    CODES_REGENERATED: EventInfo("The user made new recovery codes; the old ones stopped working", THE_USER, "user"),
    USED: EventInfo("A right code at sign-in (`factor`: app code or recovery code)", THE_USER, "user"),
    FAILED: EventInfo(
        "A wrong code (`factor`), at sign-in or while setting it up (`stage`)",
        "nobody signed in (the user, while setting it up)",
        "user",
    ),
}


async def security_context(db: AsyncSession, principal: Principal) -> dict[str, Any]:
    """What the security page's two-step verification card shows."""
    current = await status(db, principal.user_id)
    return {"enabled": current.enabled, "recovery_codes_left": current.recovery_codes_left}


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state (see app.features.two_factor.service.service_for)."""
    del settings  # no TWO_FACTOR_* settings
    return {STATE_KEY: TwoFactorService(kit)}


FEATURE = Feature(
    name="two_factor",
    routes=[API, VIEWS],
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    setup=setup,
    events=EVENTS,
    second_factors=[TotpFactor(), RecoveryCodeFactor()],
    ui=UI(
        sections=[Section("two_factor", "two_factor/security_section.html", security_context)],
        scripts=["/static/two_factor/two-factor.js"],
        stylesheets=["/static/two_factor/two-factor.css"],
        notices=NOTICES,
    ),
)
