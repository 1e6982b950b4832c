"""The servers of `make bench-compare`, what is asked of each, and the rounds that ask it.

What the Python servers are asked comes from the project itself (`python -m bench.prepare`
builds every case of its bench/cases.py): a case added there is measured here too. Every server
starts at once, pinned to core 0 (an idle server costs nothing); each round then loads them
one after the other, in an order that rotates from round to round.
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.loadgen import Load, Server, free_port, get, python_server, wrk

GET_SESSION = "/api/auth/get-session"
KINDS = ("uvicorn", "granian")
BARE = "bare Litestar endpoint"  # the name of the project's yardstick case
BETTER_AUTH = "Better Auth get-session"
BETTER_AUTH_CACHED = "Better Auth get-session (cookie cache)"
POSTGRES = " [PostgreSQL]"


class ProjectLike(Protocol):
    python: str
    env: dict[str, str]


@dataclass(frozen=True)
class Run:
    """One measurement: a path, the header sets to rotate through, a fragment every answer holds."""

    key: str
    path: str
    variants: Sequence[Mapping[str, str]]
    expect: bytes


@dataclass
class Group:
    """One server and the runs made against it."""

    name: str
    kind: str  # uvicorn, granian or node
    server: Server
    runs: list[Run]


@dataclass
class Measurements:
    """Every Load per round, keyed by (server kind, run key), and the cases as the project described them."""

    groups: list[Group]
    rounds: list[dict[tuple[str, str], Load]]
    cases: list[dict[str, Any]]


def _runs(cases: Sequence[Mapping[str, Any]], app: str, suffix: str = "", db_only: bool = False) -> list[Run]:
    return [
        Run(c["name"] + suffix, c["path"], c["variants"], (c["expect"] or "").encode())
        for c in cases
        if c.get("app") == app and (c["uses_db"] or not db_only)
    ]


def _set_cookie(url: str, headers: Mapping[str, str], name: str) -> str:
    """The value of cookie `name` that the answer to a GET sets."""
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310 - http://127.0.0.1 only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        headers_set: list[str] = response.headers.get_all("set-cookie") or []
        for header in headers_set:
            key, _, rest = header.partition("=")
            if key.strip() == name:
                return rest.split(";", 1)[0]
    raise RuntimeError(f"{url} did not set the {name} cookie")


class Lineup:
    """Builds the servers from the prepared data and runs the rounds."""

    def __init__(
        self,
        project: ProjectLike,
        work: Path,
        node: str,
        better_auth: Path,
        ba_env: Mapping[str, str],
        sqlite: Mapping[str, Any],
        pg: Mapping[str, Any] | None,
        ba: Mapping[str, Any] | None,
    ) -> None:
        self.project = project
        self.logs = work / "logs"
        self.run_dir = work / "run"  # servers run here, away from the project's .env
        self.logs.mkdir(exist_ok=True)
        self.run_dir.mkdir(exist_ok=True)
        self.cases: list[dict[str, Any]] = list(sqlite["cases"])
        self.groups: list[Group] = []
        environment = sqlite["environment"]
        for kind in KINDS:
            self._python(kind, "bare", "bench.bare:app", {}, _runs(self.cases, "bare"))
            app = self._python(kind, "app", "app.asgi:create_app", environment, _runs(self.cases, "app"))
            if sqlite.get("downstream"):  # the JWT case: the project's downstream service, JWKS from `app`
                claims = sqlite["downstream"]
                verifier_env = {
                    "BENCH_JWKS_URL": f"{app.url}/api/auth/jwks",
                    "BENCH_JWT_ISSUER": claims["issuer"],
                    "BENCH_JWT_AUDIENCE": claims["audience"],
                }
                runs = _runs(self.cases, "downstream")
                self._python(kind, "downstream", "bench.downstream:create_app", verifier_env, runs)
            cached = {**environment, "AUTH_COOKIE_CACHE": "true"}
            self._python(
                kind, "app, cookie cache", "app.asgi:create_app", cached, _runs(self.cases, "app-cached")
            )
            if pg is not None:
                runs = _runs(pg["cases"], "app", POSTGRES, db_only=True)
                self._python(kind, "app, PostgreSQL", "app.asgi:create_app", pg["environment"], runs)
        if ba is not None:
            self._better_auth(node, better_auth, ba_env, str(work / "better-auth.db"), ba)

    def _better_auth(
        self, node: str, better_auth: Path, ba_env: Mapping[str, str], db: str, ba: Mapping[str, Any]
    ) -> None:
        for cache in (False, True):
            port = free_port()
            command = [node, "server.mjs", "serve", db, str(port), *(["cache"] if cache else [])]
            name = "Better Auth" + (", cookie cache" if cache else "")
            log = self.logs / f"better-auth-{'cache' if cache else 'db'}.log"
            server = Server(name, command, port, ba_env, better_auth, log, "/api/auth/ok")
            run = Run(
                BETTER_AUTH_CACHED if cache else BETTER_AUTH,
                GET_SESSION,
                [{"Cookie": ba["cookie"]}],
                b'"session"',
            )
            self.groups.append(Group(name, "node", server, [run]))

    def _python(
        self, kind: str, name: str, target: str, environment: Mapping[str, str], runs: list[Run]
    ) -> Server:
        port = free_port()
        command = python_server(
            kind, self.project.python, target, port, factory=target.endswith("create_app")
        )
        log = self.logs / f"{kind}-{name.replace(', ', '-').replace(' ', '-')}.log"
        ready = "/health" if target.startswith("app.") else "/"  # bench.bare and bench.downstream answer on /
        server = Server(
            f"{name} · {kind}", command, port, {**self.project.env, **environment}, self.run_dir, log, ready
        )
        self.groups.append(Group(f"{name} · {kind}", kind, server, runs))
        return server

    def _check(self) -> None:
        """One request per run before any timing: a wrong cookie must fail loudly, not be timed."""
        for group in self.groups:
            for index, run in enumerate(group.runs):
                if run.key == BETTER_AUTH_CACHED:  # its cache cookie comes from the running server
                    cookie = run.variants[0]["Cookie"]
                    data = _set_cookie(
                        group.server.url + run.path, {"Cookie": cookie}, "better-auth.session_data"
                    )
                    run = Run(
                        run.key,
                        run.path,
                        [{"Cookie": f"{cookie}; better-auth.session_data={data}"}],
                        run.expect,
                    )
                    group.runs[index] = run
                status_code, body = get(group.server.url + run.path, run.variants[0])
                if status_code != 200 or run.expect not in body:
                    raise RuntimeError(f"{group.name} {run.key}: {status_code} {body[:300]!r}")

    def run(self, rounds: int, seconds: int, connections: int) -> Measurements:
        for group in self.groups:
            group.server.start()
        try:
            for group in self.groups:
                group.server.wait()
            self._check()
            results: list[dict[tuple[str, str], Load]] = []
            for round_no in range(rounds):
                shift = round_no * len(self.groups) // rounds
                order = self.groups[shift:] + self.groups[:shift]
                sys.stderr.write(f"bench-compare: round {round_no + 1}/{rounds}, from {order[0].name}\n")
                this_round: dict[tuple[str, str], Load] = {}
                for group in order:
                    for run in group.runs:
                        url = group.server.url + run.path
                        this_round[(group.kind, run.key)] = wrk(url, run.variants, seconds, connections)
                results.append(this_round)
            return Measurements(self.groups, results, self.cases)
        finally:
            for group in self.groups:
                group.server.stop()
