"""Tables of the auth core: user, account, session and verification (Better Auth's schema).

Secrets are never stored: sessions and verification tokens keep only a SHA-256 of the token,
credential accounts keep only a password hash.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow

CREDENTIAL_PROVIDER = "credential"


class User(SQLModel, table=True):
    """A person who can sign in."""

    __tablename__ = "user"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    email_verified: bool = False
    image: str | None = Field(default=None, max_length=2048)
    role: str = Field(default="user", max_length=20)
    # A suspension (`app users ban`): no sign-in, no session, no credential works until lifted or expired.
    banned: bool = False
    ban_reason: str | None = Field(default=None, max_length=500)
    ban_expires: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def is_banned(self, now: datetime) -> bool:
        """True while a ban is in force (a ban with an expiry lapses by itself)."""
        return banned_at(self.banned, self.ban_expires, now)


def banned_at(banned: bool, ban_expires: datetime | None, now: datetime) -> bool:
    """The ban rule on bare column values, for lookups that read rows without the ORM."""
    return banned and (ban_expires is None or ban_expires > now)


class Account(SQLModel, table=True):
    """A way to sign in for a user: the credential (password) account or, later, a provider."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("provider_id", "account_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    provider_id: str = Field(max_length=50)
    account_id: str = Field(max_length=255)
    password_hash: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Session(SQLModel, table=True):
    """A signed-in browser or client. The token lives only in the cookie; we keep its hash."""

    __tablename__ = "session"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    persistent: bool = True
    sign_in_method: str = Field(default="password", max_length=30)
    ip_address: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=512)
    authenticated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    absolute_expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Verification(SQLModel, table=True):
    """A single-use emailed token (email verification, password reset, email change ...)."""

    __tablename__ = "verification"
    __table_args__ = (Index("ix_verification_purpose_identifier", "purpose", "identifier"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    purpose: str = Field(max_length=40)
    identifier: str = Field(max_length=254)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    payload: str = Field(default="", max_length=1024)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
