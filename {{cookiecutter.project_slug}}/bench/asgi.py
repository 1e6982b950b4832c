"""In-process ASGI calls: no socket, no HTTP parsing, so what is timed is the app's own work.

`Probe` describes one request (or a rotation of them, e.g. many session tokens); `measure`
calls it back to back for a while and returns the time per request. The first call of every
probe is checked (status and a fragment of the body), so a benchmark never times an error page.

Requests come from many client addresses in turn (CLIENTS), as a public server's do: the
per-IP rate limit then runs on every request with its shipped budgets, without a single
client exhausting them.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Plain dicts and Any: this driver speaks ASGI to any app, Litestar's precise types add nothing here.
ASGIApp = Any
Message = dict[str, Any]

Headers = list[tuple[bytes, bytes]]
Client = tuple[str, int]
CLIENTS: list[Client] = [(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}", 50000) for n in range(1, 16385)]
BASE_HEADERS: Headers = [
    (b"host", b"bench.example.com"),
    (b"user-agent", b"bench/1.0"),
    (b"accept", b"application/json"),
]


class ProbeFailed(RuntimeError):
    """The probe's first answer was not the expected one: there is nothing meaningful to time."""


@dataclass(frozen=True)
class Probe:
    """One kind of request to time: method, path, and one or more sets of extra headers."""

    app: ASGIApp
    path: str
    variants: Sequence[Headers] = field(default_factory=lambda: [[]])
    method: str = "GET"
    body: bytes = b""
    expect_status: int = 200
    expect_body: bytes | None = None  # a fragment the first answer must contain


@dataclass(frozen=True)
class Timing:
    """Time per request over one measurement, in microseconds."""

    calls: int
    mean_us: float
    p50_us: float
    p99_us: float

    @property
    def per_second(self) -> float:
        return 1e6 / self.mean_us if self.mean_us else 0.0


@dataclass
class Answer:
    status: int = 0
    body: bytearray = field(default_factory=bytearray)


def _scope(probe: Probe, headers: Headers, client: Client) -> dict[str, Any]:
    path, _, query = probe.path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": probe.method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [*BASE_HEADERS, *headers],
        "client": client,
        "server": ("bench.example.com", 443),
        "state": {},
    }


async def call(probe: Probe, headers: Headers, client: Client = CLIENTS[0], keep_body: bool = False) -> Answer:
    """Send one request through the app and return its status (and body when asked)."""
    answer = Answer()
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": probe.body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
        elif keep_body and message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await probe.app(_scope(probe, headers, client), receive, send)
    return answer


async def check(probe: Probe) -> None:
    """Raise ProbeFailed unless the first variant answers as expected."""
    answer = await call(probe, list(probe.variants[0]), keep_body=True)
    fragment = probe.expect_body
    if answer.status != probe.expect_status or (fragment is not None and fragment not in answer.body):
        raise ProbeFailed(
            f"{probe.method} {probe.path} answered {answer.status} {bytes(answer.body[:300])!r}; "
            f"expected {probe.expect_status}" + (f" with {fragment!r}" if fragment else "")
        )


async def measure(probe: Probe, seconds: float, warmup: int = 50) -> Timing:
    """Call the probe back to back for about `seconds` (after a short warm-up)."""
    await check(probe)
    variants = [list(v) for v in probe.variants]
    rotation = itertools.cycle(variants)
    clients = itertools.cycle(CLIENTS)
    for _ in range(warmup):
        await call(probe, next(rotation), next(clients))
    samples: list[int] = []
    clock = time.perf_counter_ns
    deadline = clock() + int(seconds * 1e9)
    started = clock()
    while True:
        headers, client = next(rotation), next(clients)
        before = clock()
        await call(probe, headers, client)
        after = clock()
        samples.append(after - before)
        if after >= deadline:
            break
    total = clock() - started
    samples.sort()
    return Timing(
        calls=len(samples),
        mean_us=total / len(samples) / 1e3,
        p50_us=statistics.median(samples) / 1e3,
        p99_us=samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1e3,
    )


class Lifespan:
    """Runs the app's ASGI lifespan (startup on enter, shutdown on exit), as a server would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _expect(self, wanted: str) -> None:
        message = await self._outbox.get()
        if message["type"] != wanted:
            raise RuntimeError(f"lifespan: expected {wanted}, got {message}")

    async def __aenter__(self) -> ASGIApp:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._inbox.get, self._outbox.put))
        await self._inbox.put({"type": "lifespan.startup"})
        await self._expect("lifespan.startup.complete")
        return self.app

    async def __aexit__(self, *exc: object) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown.complete")
        if self._task is not None:
            await self._task
