"""Users can be banned: a flag, a reason and an optional expiry (Better Auth's admin fields).

Revision ID: 0002_user_ban
Revises: 0001_auth
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.db import UTCDateTime

revision: str = "0002_user_ban"
down_revision: str | Sequence[str] | None = "0001_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("banned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("ban_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("ban_expires", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("ban_expires")
        batch_op.drop_column("ban_reason")
        batch_op.drop_column("banned")
