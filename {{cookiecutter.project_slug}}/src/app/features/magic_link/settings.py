"""MAGIC_LINK_*: how long an emailed sign-in link stays valid."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from app.settings import FeatureSettings


class MagicLinkSettings(FeatureSettings):
    """Settings of the magic-link feature."""

    model_config = SettingsConfigDict(env_prefix="MAGIC_LINK_")
    group = "magic_link"

    ttl: int = Field(default=300, ge=60, le=3600)
