"""Tables of organizations: organization, member, invitation, and the active organization of a session."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.auth import Session, User  # noqa: F401 - the tables the foreign keys point at
from app.core.db import UTCDateTime, utcnow


class Organization(SQLModel, table=True):
    """A team: its members share what the app keeps for it."""

    __tablename__ = "organization"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    slug: str = Field(sa_column=Column(String(48), nullable=False, unique=True))
    logo: str | None = Field(default=None, max_length=2048)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Member(SQLModel, table=True):
    """A user's place in an organization, with their role."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    user_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    role: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the user last made this organization active: the one chosen at their next sign-in.
    last_active_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """An emailed invitation: only the hash of its link's token is kept, and only while it can be used."""

    __tablename__ = "invitation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    email: str = Field(max_length=254, index=True)
    role: str = Field(max_length=20)
    status: str = Field(default="pending", max_length=20)  # pending, accepted, rejected, canceled
    token_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True, unique=True))
    inviter_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    )
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ActiveOrganization(SQLModel, table=True):
    """The organization a session works in; a row of this feature, so the core session table stays as is."""

    __tablename__ = "organization_session"

    session_id: uuid.UUID = Field(sa_column=Column(ForeignKey("session.id", ondelete="CASCADE"), primary_key=True))
    organization_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"), nullable=False, index=True)
    )
