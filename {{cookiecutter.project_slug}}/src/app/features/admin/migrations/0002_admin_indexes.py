"""Admin console: indexes for the users list at scale, on user (created_at, id) and (name, id), and audit_log.

Revision ID: 0002_admin_indexes
Revises: 0001_admin
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_admin_indexes"
down_revision: str | Sequence[str] | None = "0001_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_user_created_at_id", "user", ["created_at", "id"])
    op.create_index("ix_user_name_id", "user", ["name", "id"])
    op.create_index("ix_audit_log_actor_event", "audit_log", ["actor_id", "event", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor_event", table_name="audit_log")
    op.drop_index("ix_user_name_id", table_name="user")
    op.drop_index("ix_user_created_at_id", table_name="user")
