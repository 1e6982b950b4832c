from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.auth import AuthKit
from app.core.event_catalogue import THE_USER, EventInfo
from app.features.base import Feature
from app.features.jwt.cli import keys_group
from app.features.jwt.routes import API_HANDLERS
from app.features.jwt.service import KEY_ROTATED, STATE_KEY, TOKEN_ISSUED, JwtService
from app.features.jwt.settings import JwtSettings
from app.settings import Settings

HERE = Path(__file__).resolve().parent

EVENTS = {
    TOKEN_ISSUED: EventInfo("A JWT was issued for the user (`kid`, `jti`, `expires_at`)", THE_USER, "user"),
    KEY_ROTATED: EventInfo(
        "A new signing key took over (`reason`: first key, scheduled, `app keys rotate` ...; `revoked` after a leak)",
        "nobody (the app, or the command line)",
        "jwt_key",
    ),
}


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state (see app.features.jwt.service.service_for)."""
    return {STATE_KEY: JwtService(kit, settings.feature(JwtSettings))}


FEATURE = Feature(
    name="jwt",
    routes=API_HANDLERS,
    migrations=HERE / "migrations",
    settings=JwtSettings,
    setup=setup,
    events=EVENTS,
    cli=[keys_group],
)
