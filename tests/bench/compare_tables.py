"""The two tables of `make bench-compare`: every run, then the issue's targets as ratios."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # compare_lineup needs the baked project on the path: imported once it is
    from tests.bench.compare_lineup import Measurements

BARE = "bare Litestar endpoint"
POSTGRES = " [PostgreSQL]"
# Ratios to Better Auth: (label, the project's case, Better Auth's run, lower bound)
VERSUS_BETTER_AUTH = [
    ("session lookup (DB) / Better Auth get-session", "session lookup (DB)", "Better Auth get-session", 4.0),
    (
        "session lookup (cookie cache) / Better Auth with its cookie cache",
        "session lookup (cookie cache)",
        "Better Auth get-session (cookie cache)",
        6.0,
    ),
]


def _table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str] = ()
) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [f"\n### {title}\n", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in rows]
    if notes:
        out += ["", *notes]
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def _spread(values: Sequence[float], fmt: str) -> str:
    middle = fmt.format(statistics.median(values))
    if len(values) < 2:
        return middle
    return f"{middle} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def print_runs(measurements: Measurements, rounds: int, seconds: int, connections: int) -> None:
    rows = []
    for group in measurements.groups:
        for run in group.runs:
            loads = [r[(group.kind, run.key)] for r in measurements.rounds]
            errors = sum(load.errors for load in loads)
            rows.append(
                [
                    group.name,
                    run.key + (f" ({errors} errors)" if errors else ""),
                    _spread([load.requests_per_second for load in loads], "{:,.0f}"),
                    f"{statistics.median(load.p50_ms for load in loads):.2f}",
                    f"{statistics.median(load.p99_ms for load in loads):.2f}",
                ]
            )
    stand_in = any(load.generator != "wrk" for r in measurements.rounds for load in r.values())
    generator = "a Python stand-in for wrk (NOT comparable)" if stand_in else f"wrk -t1 -c{connections}"
    _table(
        f"HTTP, one worker pinned to core 0, {generator} on core 1 ({rounds} round(s) of {seconds} s)",
        ["server", "request", "req/s", "p50 ms", "p99 ms"],
        rows,
        ["req/s: median of the rounds (min-max); p50 and p99: median of the rounds."],
    )


def _row(
    measurements: Measurements,
    label: str,
    kind: str,
    top: tuple[str, str],
    bottom: tuple[str, str],
    minimum: float | None,
) -> list[str] | None:
    if top not in measurements.rounds[0] or bottom not in measurements.rounds[0]:
        return None
    values = [r[top].requests_per_second / r[bottom].requests_per_second for r in measurements.rounds]
    times = minimum is not None and minimum >= 1
    target = "report" if minimum is None else (f">= {minimum:g}x" if times else f">= {minimum:.0%}")
    middle = statistics.median(values)
    verdict = "" if minimum is None else ("met" if middle >= minimum else "missed")
    return [label, kind, _spread(values, "{:.2f}x" if times else "{:.0%}"), target, verdict]


def print_ratios(measurements: Measurements) -> None:
    rows: list[list[str]] = []
    kinds = list(dict.fromkeys(g.kind for g in measurements.groups if g.kind != "node"))
    for case in measurements.cases:
        name = case["name"]
        if name == BARE:
            continue
        if "not_available" in case:
            rows.append([f"{name} / bare", "", case["not_available"], case["target"], ""])
            continue
        for suffix in ("", POSTGRES) if case["uses_db"] else ("",):
            for kind in kinds:
                minimum = case["min_ratio"]
                row = _row(
                    measurements, f"{name}{suffix} / bare", kind, (kind, name + suffix), (kind, BARE), minimum
                )
                rows += [row] if row else []
    for label, ours, theirs, minimum in VERSUS_BETTER_AUTH:
        for kind in kinds:
            row = _row(measurements, label, kind, (kind, ours), ("node", theirs), minimum)
            rows += [row] if row else []
    _table(
        "Targets: ratios of req/s within each round (median, min-max over the rounds)",
        ["ratio", "server", "measured", "target", ""],
        rows,
    )
