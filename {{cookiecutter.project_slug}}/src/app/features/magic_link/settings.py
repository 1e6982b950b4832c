"""MAGIC_LINK_*: how long an emailed sign-in link stays valid."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class MagicLinkSettings(BaseSettings):
    """Settings of the magic-link feature."""

    model_config = SettingsConfigDict(env_prefix="MAGIC_LINK_", env_file=".env", extra="ignore", frozen=True)

    ttl: int = Field(default=300, ge=60, le=3600)


def check_settings(_settings: Any) -> list[str]:
    """Problems in MAGIC_LINK_* for the start-up report."""
    try:
        MagicLinkSettings()
    except ValidationError as error:
        return [f"MAGIC_LINK_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()]
    return []
