"""API_KEYS_*: the per-key rate limit and how many keys one user may hold."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from app.settings import FeatureSettings


class ApiKeySettings(FeatureSettings):
    """Settings of the API keys feature."""

    model_config = SettingsConfigDict(env_prefix="API_KEYS_")
    group = "api_keys"

    rate_limit: int = Field(default=120, ge=1, le=100_000)  # requests per minute, per key
    max_per_user: int = Field(default=25, ge=1, le=1000)
