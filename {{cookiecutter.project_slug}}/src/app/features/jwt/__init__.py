"""JWTs for other services: short-lived tokens for the session, a JWKS, rotating signing keys.

`verifier.py` is the other half: a standalone module for the services that accept the tokens.
"""

from pathlib import Path

from app.core.features import Feature
from app.features.jwt.cli import keys_group
from app.features.jwt.routes import API_HANDLERS
from app.features.jwt.settings import check_settings

HERE = Path(__file__).resolve().parent

FEATURE = Feature(
    name="jwt",
    route_handlers=API_HANDLERS,
    migrations_dir=HERE / "migrations",
    cli_commands=[keys_group],
    check_settings=check_settings,
)
