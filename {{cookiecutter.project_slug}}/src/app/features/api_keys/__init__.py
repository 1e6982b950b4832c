from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.auth import AuthKit
from app.core.event_catalogue import THE_USER, EventInfo
from app.core.ui import UI, NavEntry, Section
from app.features.api_keys.routes import API
from app.features.api_keys.service import CREATED, REVOKED, USE_DENIED, ApiKeys
from app.features.api_keys.settings import ApiKeySettings
from app.features.api_keys.staff_section import staff_context
from app.features.api_keys.views import NOTICES, PATH, VIEWS
from app.features.api_keys.web import AUTHENTICATOR, STATE_KEY
from app.features.base import Feature
from app.settings import Settings

HERE = Path(__file__).resolve().parent

EVENTS = {
    CREATED: EventInfo("The user created an API key (`key_name`, `scopes`, `expires_at`)", THE_USER, "api_key"),
    REVOKED: EventInfo("The user revoked an API key: it stopped working at once", THE_USER, "api_key"),
    USE_DENIED: EventInfo(
        "A request with the key was refused (`reason`: revoked, expired, banned, rate limited); once a minute at most",
        "the key's owner",
        "api_key",
    ),
}


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state (see app.features.api_keys.web.service_for)."""
    db = kit.db
    return {
        STATE_KEY: ApiKeys(kit, db.engine, db.sessions, kit.store, db.reader, settings=settings.feature(ApiKeySettings))
    }


FEATURE = Feature(
    name="api_keys",
    routes=[API, VIEWS],
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    settings=ApiKeySettings,
    setup=setup,
    events=EVENTS,
    authenticators=[AUTHENTICATOR],
    ui=UI(
        nav=[NavEntry("API keys", PATH)],
        staff_sections=[Section("api_keys", "api_keys/staff_section.html", staff_context)],
        scripts=["/static/api_keys/api-keys.js"],
        stylesheets=["/static/api_keys/api-keys.css"],
        notices=NOTICES,
    ),
)
