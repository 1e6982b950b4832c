"""API_KEYS_*: the per-key rate limit and how many keys one user may hold."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiKeySettings(BaseSettings):
    """Settings of the API keys feature."""

    model_config = SettingsConfigDict(env_prefix="API_KEYS_", env_file=".env", extra="ignore", frozen=True)

    rate_limit: int = Field(default=120, ge=1, le=100_000)  # requests per minute, per key
    max_per_user: int = Field(default=25, ge=1, le=1000)


def check_settings(_settings: Any) -> list[str]:
    """Problems in API_KEYS_* for the start-up report."""
    try:
        ApiKeySettings()
    except ValidationError as error:
        return [f"API_KEYS_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()]
    return []
