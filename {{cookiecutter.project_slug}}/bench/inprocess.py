"""The in-process suite: every case of bench/cases.py timed through ASGI calls, in rounds.

Rounds run the cases in a rotating order, so drift (CPU frequency, caches, the garbage
collector) spreads over all of them; each round's figure is divided by the same round's bare
endpoint, and the tables show the median with min-max.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping

from bench.asgi import ASGIApp, Probe, Timing, measure
from bench.cases import Built, NotAvailable, Request
from bench.report import spread, status, table, verdict


def probe(request: Request, apps: Mapping[str, ASGIApp]) -> Probe:
    return Probe(apps[request.target], request.path, request.variants, expect_body=request.expect_body)


async def run_cases(apps: Mapping[str, ASGIApp], built: Built, seconds: float, rounds: int) -> None:
    """Time every available case `rounds` times and print the table."""
    timed = [(c, r) for c, r in built if isinstance(r, Request)]
    results: dict[str, list[Timing]] = {c.name: [] for c, _ in timed}
    ratios: dict[str, list[float]] = {c.name: [] for c, _ in timed}
    for round_no in range(rounds):
        shift = round_no % len(timed)
        order = timed[shift:] + timed[:shift]
        status(f"in-process round {round_no + 1}/{rounds}: " + ", ".join(c.name for c, _ in order))
        this_round = {c.name: await measure(probe(r, apps), seconds) for c, r in order}
        bare_us = this_round[timed[0][0].name].mean_us
        for name, timing in this_round.items():
            results[name].append(timing)
            ratios[name].append(bare_us / timing.mean_us)
    rows = []
    for case, request in built:
        if isinstance(request, NotAvailable):
            rows.append([case.name, request.reason, "", "", "", case.target, ""])
            continue
        timings = results[case.name]
        mean = statistics.median(t.mean_us for t in timings)
        rows.append(
            [
                case.name,
                f"{mean:,.0f}",
                f"{statistics.median(t.p99_us for t in timings):,.0f}",
                f"{1e6 / mean:,.0f}",
                spread(ratios[case.name]),
                case.target,
                verdict(statistics.median(ratios[case.name]), case.min_ratio),
            ]
        )
    table(
        f"In-process: time per request ({rounds} round(s) of {seconds:g} s per case)",
        ["case", "µs/request", "p99 µs", "req/s (1 core)", "vs bare", "target (HTTP)", ""],
        rows,
        [
            "No server and no HTTP parsing: the ratios are stricter than over HTTP, where the server's",
            "own cost is shared by every case. The targets are defined over HTTP (--http, make bench-compare).",
        ],
    )
