"""The signing keys: public JWK in the clear, private half sealed with SECRET_KEY and erased on retirement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class JwtKey(SQLModel, table=True):
    """One key pair. Published while `expires_at` is unset or ahead; signs between activation and retirement.

    A key is created one rotation ahead (`activated_at` unset), so verifiers that cache the JWKS
    already know it when it starts signing.
    """

    __tablename__ = "jwt_key"

    id: str = Field(primary_key=True, max_length=64)  # the `kid`
    algorithm: str = Field(max_length=10)
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    private_key: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
