"""Typed auth events and the in-transaction emitter that the audit log and features subscribe to.

Listeners run inside the database transaction of the operation that emitted the event, so an
audit row is written if and only if the change it describes is committed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession


class EventName(StrEnum):
    """Every state change of the auth core; features add their own names as plain strings."""

    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DELETED = "user.deleted"
    USER_BANNED = "user.banned"
    USER_UNBANNED = "user.unbanned"
    EMAIL_VERIFIED = "user.email_verified"
    EMAIL_CHANGE_REQUESTED = "user.email_change_requested"
    EMAIL_CHANGED = "user.email_changed"
    SIGN_IN_FAILED = "session.sign_in_failed"
    SESSION_CREATED = "session.created"
    SESSION_REVOKED = "session.revoked"
    SESSION_REAUTHENTICATED = "session.reauthenticated"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - a name, not a secret
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 - a name, not a secret
    PASSWORD_RESET = "password.reset"  # noqa: S105 - a name, not a secret


@dataclass(frozen=True)
class RequestMeta:
    """Who is asking, as far as the HTTP layer knows; services never see the request itself."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened: never carries a secret."""

    name: str
    actor_id: uuid.UUID | None
    target_type: str
    target_id: str | None
    meta: RequestMeta = RequestMeta()
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[AsyncSession, Event], Awaitable[None]]


class EventBus:
    """Dispatches events to listeners registered per name, or for every event with "*"."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = defaultdict(list)

    def subscribe(self, name: str, listener: Listener) -> None:
        """Call `listener` for events called `name` ("*" for all)."""
        self._listeners[name].append(listener)

    async def emit(self, db: AsyncSession, event: Event) -> None:
        """Run every listener for `event` in the caller's transaction."""
        for listener in (*self._listeners.get(event.name, ()), *self._listeners.get("*", ())):
            await listener(db, event)
