"""HTTP mode: the cases of bench/cases.py through uvicorn (and granian when installed) with wrk.

For each server, three processes run pinned to one core: the bare app, the app, and the app
with the cookie cache; wrk loads one at a time from the other core. Rounds rotate the order.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import apps
from bench.cases import Built, NotAvailable, Request
from bench.loadgen import MAX_VARIANTS, Load, Server, free_port, get, has_module, python_server, wrk, wrk_path
from bench.report import spread, status, table, verdict

PROJECT = Path(__file__).resolve().parent.parent


def _servers(
    kind: str, database_url: str, stack: ExitStack, logs: Path, downstream: Mapping[str, Any]
) -> dict[str, Server]:
    env = {**_clean_environ(), "PYTHONPATH": f"{PROJECT / 'src'}:{PROJECT}"}
    targets = {
        "bare": ("bench.bare:app", False, env),
        "app": ("app.asgi:create_app", True, {**env, **apps.environment(database_url, cookie_cache=False)}),
        "app-cached": ("app.asgi:create_app", True, {**env, **apps.environment(database_url, cookie_cache=True)}),
    }
    started = {}
    for name, (target, factory, environ) in targets.items():
        port = free_port()
        command = python_server(kind, sys.executable, target, port, factory)
        # Run outside the project folder so that its .env does not reach the servers.
        server = Server(f"{kind} {name}", command, port, environ, logs, logs / f"{kind}-{name}.log")
        started[name] = stack.enter_context(server)
    if downstream:  # the JWT case: a service that fetches the app's JWKS from the app's server
        port = free_port()
        command = python_server(kind, sys.executable, "bench.downstream:create_app", port, True)
        environ = {**env, **downstream_environment(started["app"].url, downstream)}
        server = Server(f"{kind} downstream", command, port, environ, logs, logs / f"{kind}-downstream.log")
        started["downstream"] = stack.enter_context(server)
    return started


def downstream_environment(app_url: str, downstream: Mapping[str, Any]) -> dict[str, str]:
    """What bench.downstream:create_app reads: where the JWKS is, and the claims to require."""
    return {
        "BENCH_JWKS_URL": f"{app_url}/api/auth/jwks",
        "BENCH_JWT_ISSUER": str(downstream["issuer"]),
        "BENCH_JWT_AUDIENCE": str(downstream["audience"]),
    }


def _clean_environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "DATABASE_", "AUTH_", "RATE_LIMIT_"))}


def check(server: Server, request: Request) -> list[dict[str, str]]:
    """The header sets wrk rotates through, after one request proved they get the expected answer."""
    variants = [{k.decode(): v.decode() for k, v in headers} for headers in request.variants[:MAX_VARIANTS]]
    status_code, body = get(server.url + request.path, variants[0])
    if status_code != 200 or (request.expect_body is not None and request.expect_body not in body):
        raise RuntimeError(f"{server.name} {request.path} answered {status_code} {body[:300]!r}")
    return variants


def run_http(
    database_url: str, built: Built, seconds: int, rounds: int, connections: int, downstream: Mapping[str, Any]
) -> None:
    """Time every available case over HTTP on each installed server and print one table per server."""
    if wrk_path() is None:
        status("wrk is not installed (apt-get install wrk, or brew install wrk): a Python stand-in loads the servers")
    kinds = ["uvicorn"] + (["granian"] if has_module(sys.executable, "granian") else [])
    if "granian" not in kinds:
        status("granian is not installed (pip install granian): uvicorn only")
    timed = [(c, r) for c, r in built if isinstance(r, Request)]
    for kind in kinds:
        loads: dict[str, list[Load]] = {c.name: [] for c, _ in timed}
        ratios: dict[str, list[float]] = {c.name: [] for c, _ in timed}
        with tempfile.TemporaryDirectory(prefix="bench-logs-") as logs, ExitStack() as stack:
            servers = _servers(kind, database_url, stack, Path(logs), downstream)
            headers = {c.name: check(servers[r.target], r) for c, r in timed}
            for round_no in range(rounds):
                shift = round_no % len(timed)
                order = timed[shift:] + timed[:shift]
                status(f"{kind} round {round_no + 1}/{rounds}")
                this_round: Mapping[str, Load] = {
                    c.name: wrk(servers[r.target].url + r.path, headers[c.name], seconds, connections) for c, r in order
                }
                for name, load in this_round.items():
                    loads[name].append(load)
                    ratios[name].append(load.requests_per_second / this_round[timed[0][0].name].requests_per_second)
        rows = []
        for case, request in built:
            if isinstance(request, NotAvailable):
                rows.append([case.name, request.reason, "", "", "", case.target, ""])
                continue
            got = loads[case.name]
            errors = sum(load.errors for load in got)
            rows.append(
                [
                    case.name + (f" ({errors} errors)" if errors else ""),
                    f"{statistics.median(x.requests_per_second for x in got):,.0f}",
                    f"{statistics.median(x.p50_ms for x in got):.2f}",
                    f"{statistics.median(x.p99_ms for x in got):.2f}",
                    spread(ratios[case.name]),
                    case.target,
                    verdict(statistics.median(ratios[case.name]), case.min_ratio),
                ]
            )
        generator = f"wrk -t1 -c{connections}" if wrk_path() else "a Python stand-in for wrk (NOT comparable)"
        table(
            f"HTTP: {kind}, one worker pinned to a core, {generator} on the other ({rounds} round(s) of {seconds} s)",
            ["case", "req/s", "p50 ms", "p99 ms", "vs bare", "target", ""],
            rows,
        )
