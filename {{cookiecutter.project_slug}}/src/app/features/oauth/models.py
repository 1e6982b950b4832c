"""The feature's tables: a provider account's identity and sealed tokens, and started sign-ins.

The core `account` row (provider_id = provider name, account_id = subject) makes the link a sign-in
method like the password; `oauth_account` keys it by (issuer, subject), never by email, and keeps
the provider's tokens encrypted with SecretBox. `oauth_state` holds each authorization request
until its callback uses it up (single use), bound to the browser that started it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.auth import Account, User  # noqa: F401 - the tables the foreign keys point at
from app.core.db import UTCDateTime, utcnow


class OAuthAccount(SQLModel, table=True):
    """A provider identity linked to a user."""

    __tablename__ = "oauth_account"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("account.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    provider: str = Field(max_length=50)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=254)
    email_verified: bool = False
    access_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # sealed
    refresh_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # sealed
    id_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # sealed
    scope: str | None = Field(default=None, max_length=1024)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OAuthState(SQLModel, table=True):
    """An authorization request on its way to the provider and back."""

    __tablename__ = "oauth_state"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    state_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    browser_hash: str = Field(sa_column=Column(String(64), nullable=False))
    provider: str = Field(max_length=50)
    intent: str = Field(max_length=10)  # "sign-in" or "link"
    user_id: uuid.UUID | None = None  # the user who links (intent "link")
    code_verifier: str = Field(sa_column=Column(Text, nullable=False))  # sealed
    nonce: str | None = Field(default=None, max_length=64)
    redirect_to: str = Field(default="/", max_length=2048)
    error_redirect_to: str | None = Field(default=None, max_length=2048)
    persistent: bool = True
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
