"""Admin console: admin_impersonation (the sessions an admin opened as another user), a branch needing the auth core.

Revision ID: 0001_admin
Revises:
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.db import UTCDateTime

revision: str = "0001_admin"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("admin",)
depends_on: str | Sequence[str] | None = "0001_auth"


def upgrade() -> None:
    op.create_table(
        "admin_impersonation",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("admin_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["admin_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index("ix_admin_impersonation_admin_id", "admin_impersonation", ["admin_id"])


def downgrade() -> None:
    op.drop_index("ix_admin_impersonation_admin_id", table_name="admin_impersonation")
    op.drop_table("admin_impersonation")
