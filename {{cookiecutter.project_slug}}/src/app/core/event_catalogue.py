"""The event catalogue: every event name the app emits, with what it means, who its actor is and what it targets.

The core declares its names beside `app.core.events.EventName`, each feature in its `Feature.events`;
`app.asgi` gathers them into one `EventCatalogue`. The event bus refuses a name that is not in it,
so an event cannot be emitted (nor listened for) before it is described. The catalogue is an API of
the app: its Markdown is docs/audit-events.md (`app audit events`), and whoever subscribes to
events (listeners, outgoing webhooks) picks names from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

CORE = "core"  # the source of the names the core declares; the others are features' names
# `<subject>.<what happened>`, short enough for the audit log's `event` column (60 characters).
NAME = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
NAME_MAX = 60
# The actors most events have, in the words of the docs page.
THE_USER = "the user"
NOBODY = "nobody signed in"

INTRO = """\
# Audit events

Every event the app records in its audit log, with what it means. This page is generated from
the code by `app audit events` (the event's meaning is declared beside the code that emits it)
and a test fails when they differ; an event cannot be recorded before it is declared.

Each audit entry (see `app audit export`) holds the event's name, its **actor** (the id of the
user who did it, empty when nobody was signed in, such as a failed sign-in or the command line),
its **target** (a type, as in the tables below, and an id), the client's IP address and user
agent, the UTC time, and data particular to the event (named in the tables in brackets); never a
secret. In the tables, "the user" is the user the event is about.
"""


class UncataloguedEvent(LookupError):
    """An event name nobody declared: a programming error, raised where it is emitted or listened for."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the event {name!r} is not in the event catalogue: declare it, with its meaning, beside the code that "
            "emits it (the core's in app.core.events, a feature's in its Feature.events)"
        )


@dataclass(frozen=True)
class EventInfo:
    """What one event means, for people (the docs page) and for subscribers."""

    meaning: str  # one line: what happened
    actor: str  # who the actor is, in words ("the user", "an admin", "nobody signed in" ...)
    target: str  # the target type the event is recorded with ("user", "session" ...)


class EventCatalogue(Mapping[str, EventInfo]):
    """Every name the app emits (a read-only mapping, name -> EventInfo), and which part declares it.

    Built once per app from the sources given, the core's first; a name declared twice, or not of
    the form `<subject>.<what happened>`, stops the app from being built.
    """

    def __init__(self, sources: Iterable[tuple[str, Mapping[str, EventInfo]]]) -> None:
        self.sources: dict[str, dict[str, EventInfo]] = {}
        self._entries: dict[str, EventInfo] = {}
        for source, events in sources:
            if source in self.sources:
                raise ValueError(f"two parts of the app declare events as {source!r}")
            self.sources[source] = {}
            for key, info in events.items():
                name = str(key)  # an EventName member becomes its plain value
                if not NAME.fullmatch(name) or len(name) > NAME_MAX:
                    raise ValueError(f"{source}: the event name {name!r} is not `<subject>.<what happened>`")
                if name in self._entries:
                    raise ValueError(f"{source}: the event {name!r} is declared twice")
                self.sources[source][name] = self._entries[name] = info

    def __contains__(self, name: object) -> bool:
        return name in self._entries  # one dict lookup: the bus asks it for every event

    def __getitem__(self, name: str) -> EventInfo:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def markdown(self) -> str:
        """The catalogue as a Markdown page (docs/audit-events.md): the core's events, then each
        feature's, by the feature's name; names sorted within each."""
        order = sorted(self.sources, key=lambda source: (source != CORE, source))
        sections = [_section(source, self.sources[source]) for source in order if self.sources[source]]
        return "\n".join([INTRO, *sections])


def _section(source: str, events: Mapping[str, EventInfo]) -> str:
    title = "The auth core (always on)" if source == CORE else f"The `{source}` feature"
    lines = [f"## {title}", "", "| Event | Meaning | Actor | Target |", "| --- | --- | --- | --- |"]
    for name in sorted(events):
        info = events[name]
        cells = (f"`{name}`", info.meaning, info.actor, f"`{info.target}`")
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
