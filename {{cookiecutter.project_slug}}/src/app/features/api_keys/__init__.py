from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.auth import AuthKit
from app.core.ui import UI, NavEntry
from app.features.api_keys.routes import API
from app.features.api_keys.service import ApiKeys
from app.features.api_keys.settings import ApiKeySettings
from app.features.api_keys.views import NOTICES, PATH, VIEWS
from app.features.api_keys.web import AUTHENTICATOR, STATE_KEY
from app.features.base import Feature
from app.settings import Settings

HERE = Path(__file__).resolve().parent


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
    authenticators=[AUTHENTICATOR],
    ui=UI(
        nav=[NavEntry("API keys", PATH)],
        scripts=["/static/api_keys/api-keys.js"],
        stylesheets=["/static/api_keys/api-keys.css"],
        notices=NOTICES,
    ),
)
