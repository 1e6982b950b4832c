"""The passkey table: one row per WebAuthn credential (its public key; the private key stays in the authenticator)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, LargeBinary, String
from sqlmodel import Field, SQLModel

from app.auth import User  # noqa: F401 - the "user" table the foreign key points at
from app.core.db import UTCDateTime, utcnow


class Passkey(SQLModel, table=True):
    """A passkey a user registered. `credential_id` is unique across all users."""

    __tablename__ = "passkey"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    name: str = Field(max_length=100)
    credential_id: str = Field(sa_column=Column(String(1400), nullable=False, unique=True))  # base64url
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # COSE
    sign_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    transports: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    aaguid: str = Field(default="", max_length=36)
    device_type: str = Field(default="single_device", max_length=32)  # or "multi_device" (synced)
    backed_up: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
