"""Two-factor authentication: the two_factor and two_factor_recovery_code tables, a branch of its own.

Revision ID: 0001_two_factor
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.db import UTCDateTime

revision: str = "0001_two_factor"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("two_factor",)
depends_on: str | Sequence[str] | None = "0001_auth"


def upgrade() -> None:
    op.create_table(
        "two_factor",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("secret", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("enabled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "two_factor_recovery_code",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("two_factor_recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_two_factor_recovery_code_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("two_factor_recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_two_factor_recovery_code_user_id"))
    op.drop_table("two_factor_recovery_code")
    op.drop_table("two_factor")
