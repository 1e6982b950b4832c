"""The audit log by target: (target_type, target_id, created_at), for a user's activity and the viewer's filter.

Revision ID: 0004_audit_target
Revises: 0003_user_ban
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_audit_target"
down_revision: str | Sequence[str] | None = "0003_user_ban"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_target", ["target_type", "target_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_target")
