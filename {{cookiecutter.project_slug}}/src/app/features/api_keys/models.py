"""The api_key table: one row per key, holding only the key's SHA-256, never the key itself."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from app.auth import User  # noqa: F401 - the "user" table the foreign key points at
from app.core.db import UTCDateTime, utcnow


class ApiKey(SQLModel, table=True):
    """A key a user created for a script or a service. Revoked keys stay, so a later use is attributed."""

    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    start: str = Field(max_length=32)  # the prefix and the first characters, to recognise the key
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
