"""The second-factor gate: pending sign-ins (first factor passed, second not yet) and trusted devices.

Revision ID: 0002_second_factor
Revises: 0001_auth
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.db import UTCDateTime

revision: str = "0002_second_factor"
down_revision: str | Sequence[str] | None = "0001_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_sign_in",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("persistent", sa.Boolean(), nullable=False),
        sa.Column("replaces", sa.Uuid(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("pending_sign_in", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_sign_in_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pending_sign_in_user_id"), ["user_id"], unique=False)

    op.create_table(
        "trusted_device",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("trusted_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trusted_device_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trusted_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trusted_device_user_id"))
    op.drop_table("trusted_device")
    with op.batch_alter_table("pending_sign_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_sign_in_user_id"))
        batch_op.drop_index(batch_op.f("ix_pending_sign_in_expires_at"))
    op.drop_table("pending_sign_in")
