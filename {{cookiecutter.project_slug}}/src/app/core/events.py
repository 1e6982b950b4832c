"""Typed auth events, what each means, and the in-transaction emitter that the audit log and features subscribe to.

Listeners run inside the database transaction of the operation that emitted the event, so an
audit row is written if and only if the change it describes is committed. The emitter knows the
app's event catalogue (app.core.event_catalogue) and refuses a name that is not in it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.event_catalogue import NOBODY, THE_USER, EventCatalogue, EventInfo, UncataloguedEvent


class EventName(StrEnum):
    """Every state change of the auth core (each described in CORE_EVENTS); features add their own
    names as plain strings, described in their `Feature.events`."""

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
    SECOND_FACTOR_REQUIRED = "session.second_factor_required"
    SECOND_FACTOR_FAILED = "session.second_factor_failed"
    TRUSTED_DEVICE_ADDED = "session.trusted_device_added"
    TRUSTED_DEVICE_REVOKED = "session.trusted_device_revoked"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - a name, not a secret
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 - a name, not a secret
    PASSWORD_RESET = "password.reset"  # noqa: S105 - a name, not a secret


_USER_OR_ADMIN = "the user, or an admin"
CORE_EVENTS: Mapping[str, EventInfo] = {
    EventName.USER_CREATED: EventInfo(
        "An account was created (`method`: sign-up, or another way)", "the new user", "user"
    ),
    EventName.USER_UPDATED: EventInfo(
        "The user's name or picture changed (`fields`; `by: admin` when an admin changed them)", _USER_OR_ADMIN, "user"
    ),
    EventName.USER_DELETED: EventInfo(
        "The account was deleted, with everything that was its own", _USER_OR_ADMIN, "user"
    ),
    EventName.USER_BANNED: EventInfo(
        "The user was banned (`reason`, `until`): their sessions ended, and no sign-in works while it lasts",
        "an admin (nobody from the command line)",
        "user",
    ),
    EventName.USER_UNBANNED: EventInfo("The ban was lifted", "an admin (nobody from the command line)", "user"),
    EventName.EMAIL_VERIFIED: EventInfo(
        "The email address was proved by a link mailed to it, or marked verified by an admin", _USER_OR_ADMIN, "user"
    ),
    EventName.EMAIL_CHANGE_REQUESTED: EventInfo(
        "A link to confirm a new address was mailed to it, and a notice to the current one", THE_USER, "user"
    ),
    EventName.EMAIL_CHANGED: EventInfo(
        "The new address was confirmed by its link and replaced the old one", THE_USER, "user"
    ),
    EventName.SIGN_IN_FAILED: EventInfo(
        "A sign-in to the account was refused (`reason`: a wrong password, a ban ...)", NOBODY, "user"
    ),
    EventName.SESSION_CREATED: EventInfo("The user signed in: a new session (`method`)", THE_USER, "session"),
    EventName.SESSION_REVOKED: EventInfo(
        "A session ended before it expired (`reason`: sign-out, a password change, a ban ...)",
        "the user, or an admin (nobody from the command line)",
        "session",
    ),
    EventName.SESSION_REAUTHENTICATED: EventInfo(
        "The user proved who they are again, so the session may make sensitive changes for a while", THE_USER, "session"
    ),
    EventName.SECOND_FACTOR_REQUIRED: EventInfo(
        "The first factor was right and a second one is asked for (`factors`); no session yet", THE_USER, "user"
    ),
    EventName.SECOND_FACTOR_FAILED: EventInfo(
        "A wrong second-factor code at sign-in (`factor`, `attempts_left`)", NOBODY, "user"
    ),
    EventName.TRUSTED_DEVICE_ADDED: EventInfo(
        "The user trusted this browser: it skips the second factor for a while", THE_USER, "user"
    ),
    EventName.TRUSTED_DEVICE_REVOKED: EventInfo(
        "The user withdrew trust from browsers (`count`): they ask for the second factor again", THE_USER, "user"
    ),
    EventName.PASSWORD_CHANGED: EventInfo(
        "The user changed their password, or an admin set a new one (`by`)", _USER_OR_ADMIN, "user"
    ),
    EventName.PASSWORD_RESET_REQUESTED: EventInfo("A password-reset link was mailed to the account", NOBODY, "user"),
    EventName.PASSWORD_RESET: EventInfo(
        "The password was reset by an emailed link, and every session of the user ended", THE_USER, "user"
    ),
}


@dataclass(frozen=True)
class RequestMeta:
    """Who is asking, as far as the HTTP layer knows; services never see the request itself."""

    ip: str | None = None
    user_agent: str | None = None
    # The browser's trusted-device cookie (see app.auth.second_factor); never logged.
    trusted_device: str | None = field(default=None, repr=False)


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
    """Dispatches events to listeners registered per name, or for every event with "*".

    Only names of the app's catalogue go through: emitting or listening for another is a
    programming error (UncataloguedEvent), which the first test to reach it shows.
    """

    def __init__(self, catalogue: EventCatalogue) -> None:
        self.catalogue = catalogue
        self._listeners: dict[str, list[Listener]] = defaultdict(list)

    def subscribe(self, name: str, listener: Listener) -> None:
        """Call `listener` for events called `name` ("*" for all)."""
        if name != "*" and name not in self.catalogue:
            raise UncataloguedEvent(name)
        self._listeners[name].append(listener)

    async def emit(self, db: AsyncSession, event: Event) -> None:
        """Run every listener for `event` in the caller's transaction."""
        if event.name not in self.catalogue:  # a dict lookup, next to the audit row's INSERT
            raise UncataloguedEvent(event.name)
        for listener in (*self._listeners.get(event.name, ()), *self._listeners.get("*", ())):
            await listener(db, event)
