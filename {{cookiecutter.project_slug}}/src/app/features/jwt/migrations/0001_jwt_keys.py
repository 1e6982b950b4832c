"""JWT feature: the signing keys (public JWK, sealed private key, rotation times).

Revision ID: 0001_jwt
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.db import UTCDateTime

revision: str = "0001_jwt"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("jwt",)
depends_on: str | Sequence[str] | None = "0001_auth"


def upgrade() -> None:
    op.create_table(
        "jwt_key",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=10), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("jwt_key")
