"""The admin console's tables: the sessions an admin opened as another user; and its indexes on the core's tables.

The users list pages by keyset on (created_at, id) and (name, id) (email is unique, so indexed
already), and reads each listed user's last sign-in from the audit log: these indexes keep both
a few index steps at any size (measured by `make bench BENCH_ARGS="--only admin"`). They belong
to the console, not to the core: a project without it does not pay for them on every write.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from app.auth import User
from app.core.audit import AuditLog
from app.core.db import UTCDateTime, utcnow


class Impersonation(SQLModel, table=True):
    """A session an admin opened as another user (see app.features.admin.impersonation).

    A row of this feature keyed by the session, so the core's session table stays as it is; the
    session's `impersonatedBy` field reads `admin_id` (a session field, in the session lookup's
    one SELECT). Deleting the session deletes the row.
    """

    __tablename__ = "admin_impersonation"

    session_id: uuid.UUID = Field(sa_column=Column(ForeignKey("session.id", ondelete="CASCADE"), primary_key=True))
    admin_id: uuid.UUID = Field(sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_USER = User.__table__.c  # type: ignore[attr-defined]
_AUDIT = AuditLog.__table__.c  # type: ignore[attr-defined]
USERS_BY_CREATION = Index("ix_user_created_at_id", _USER.created_at, _USER.id)
USERS_BY_NAME = Index("ix_user_name_id", _USER.name, _USER.id)
# The newest `session.created` of a user is the last entry of its (actor_id, event) range.
SIGN_INS_BY_USER = Index("ix_audit_log_actor_event", _AUDIT.actor_id, _AUDIT.event, _AUDIT.created_at)
