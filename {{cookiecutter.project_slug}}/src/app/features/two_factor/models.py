"""Tables of two-factor authentication: the TOTP secret (sealed) and the recovery codes (hashed)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class TwoFactor(SQLModel, table=True):
    """A user's authenticator-app secret; `enabled` once they confirmed a code from it."""

    __tablename__ = "two_factor"

    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True))
    # The base32 seed sealed with SecretBox("two-factor"), bound to the user id.
    secret: str = Field(sa_column=Column(String(255), nullable=False))
    enabled: bool = False
    # The last accepted TOTP time step: a code is never accepted twice.
    last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """A single-use recovery code, stored as a SHA-256 of the user id and the code."""

    __tablename__ = "two_factor_recovery_code"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
