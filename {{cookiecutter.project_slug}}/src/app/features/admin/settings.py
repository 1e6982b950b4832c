"""ADMIN_* settings of the admin console."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from app.settings import FeatureSettings


class AdminSettings(FeatureSettings):
    """ADMIN_*: how many console requests a client IP may make a minute, and the page size of the users
    list and the audit log."""

    group: ClassVar[str] = "admin"
    model_config = SettingsConfigDict(env_prefix="ADMIN_")

    rate_limit: int = Field(default=120, ge=1, le=100_000)
    page_size: int = Field(default=50, ge=5, le=500)
