"""JWT_*: who the tokens are for, how long they live, and how often the signing key changes."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from app.settings import FeatureSettings

Algorithm = Literal["EdDSA", "ES256", "RS256"]


class JwtSettings(FeatureSettings):
    """Settings of the JWT feature (durations in seconds)."""

    model_config = SettingsConfigDict(env_prefix="JWT_")
    group = "jwt"

    # Empty: APP_BASE_URL, as Better Auth does.
    issuer: str = ""
    audience: str = ""
    ttl: int = Field(default=900, ge=60, le=3600)
    algorithm: Algorithm = "EdDSA"
    rotation_interval: int = Field(default=30 * 86400, ge=3600)
    grace_period: int = Field(default=86400, ge=60)

    @model_validator(mode="after")
    def _grace_covers_token_lifetime(self) -> Self:
        if self.grace_period < self.ttl:
            raise ValueError(
                "JWT_GRACE_PERIOD must be at least JWT_TTL: a retired key has to verify the tokens it signed"
            )
        return self
