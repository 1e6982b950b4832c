from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.auth import AuthKit
from app.features.base import Feature
from app.features.jwt.cli import keys_group
from app.features.jwt.routes import API_HANDLERS
from app.features.jwt.service import STATE_KEY, JwtService
from app.features.jwt.settings import JwtSettings
from app.settings import Settings

HERE = Path(__file__).resolve().parent


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state (see app.features.jwt.service.service_for)."""
    return {STATE_KEY: JwtService(kit, settings.feature(JwtSettings))}


FEATURE = Feature(
    name="jwt",
    routes=API_HANDLERS,
    migrations=HERE / "migrations",
    settings=JwtSettings,
    setup=setup,
    cli=[keys_group],
)
