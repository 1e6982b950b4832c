"""API keys: users create keys for their scripts and services, limited to scopes, and revoke them.

Keys are stored as SHA-256 hashes only, accepted from the `x-api-key` header or as
`Authorization: Bearer <key>` (never from the query string), rate limited per key, and checked
against the database on every request. See docs/api-keys.md.
"""

from pathlib import Path

from app.core.features import Feature, NavEntry
from app.features.api_keys.routes import API
from app.features.api_keys.settings import check_settings
from app.features.api_keys.views import PATH, VIEWS
from app.features.api_keys.web import AUTHENTICATOR

HERE = Path(__file__).resolve().parent

FEATURE = Feature(
    name="api_keys",
    route_handlers=[API, VIEWS],
    templates_dir=HERE / "templates",
    static_dir=HERE / "static",
    migrations_dir=HERE / "migrations",
    nav=[NavEntry("API keys", PATH)],
    check_settings=check_settings,
    authenticators=[AUTHENTICATOR],
    scripts=["/static/api_keys/api-keys.js"],
    stylesheets=["/static/api_keys/api-keys.css"],
)
