"""Two-step verification: an authenticator app (TOTP) and single-use recovery codes.

The codes are checked on the core's sign-in challenge (app.auth.second_factor) after every
first factor: password, magic link and social sign-in alike. See docs/two-factor.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.sessions import Principal
from app.core.features import Feature
from app.core.ui import NOTICES
from app.features.two_factor.routes import API
from app.features.two_factor.service import RecoveryCodeFactor, TotpFactor, status
from app.features.two_factor.views import VIEWS

HERE = Path(__file__).resolve().parent

NOTICES.update(
    {
        "two-factor-disabled": "Two-step verification is off.",
        "second-factor-too-many": "Too many wrong codes. Sign in again.",
    }
)


async def security_context(db: AsyncSession, principal: Principal) -> dict[str, Any]:
    """What the security page's two-step verification card shows."""
    current = await status(db, principal.user_id)
    return {"enabled": current.enabled, "recovery_codes_left": current.recovery_codes_left}


FEATURE = Feature(
    name="two_factor",
    route_handlers=[API, VIEWS],
    templates_dir=HERE / "templates",
    static_dir=HERE / "static",
    migrations_dir=HERE / "migrations",
    second_factors=[TotpFactor(), RecoveryCodeFactor()],
    security_sections=["two_factor/security_section.html"],
    security_context=security_context,
    scripts=["/static/two_factor/two-factor.js"],
    stylesheets=["/static/two_factor/two-factor.css"],
)
