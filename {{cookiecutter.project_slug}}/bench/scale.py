"""Does a session lookup stay as cheap with a million sessions as with ten thousand?

The table grows in steps (inserted inside the database, see bench/data.py); at each size the
same get-session request is timed over tokens sampled across the whole table, so the index
is read where it is cold as well as where it is warm.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Litestar

from bench.asgi import Probe, measure
from bench.cases import GET_SESSION
from bench.data import Dataset
from bench.report import status, table

SAMPLE = 4096


async def run_scale(app: Litestar, data: Dataset, sizes: Sequence[int], seconds: float, rounds: int) -> None:
    """Grow the session table through `sizes` and time the DB lookup at each size."""
    cookie = app.state.auth.sessions.cookie_name
    rows: list[list[str]] = []
    first: float | None = None
    for size in sorted(sizes):
        status(f"growing the session table to {size:,} rows")
        await data.grow_sessions(size)
        variants = [[(b"cookie", f"{cookie}={token}".encode())] for token in data.sample_tokens(SAMPLE)]
        probe = Probe(app, GET_SESSION, variants, expect_body=b'"session"')
        timings = [await measure(probe, seconds) for _ in range(rounds)]
        mean = sorted(t.mean_us for t in timings)[len(timings) // 2]
        first = first or mean
        ratio = mean / first
        rows.append(
            [
                f"{size:,}",
                f"{mean:,.0f}",
                f"{sorted(t.p99_us for t in timings)[len(timings) // 2]:,.0f}",
                f"{ratio:.2f}",
                "" if size == min(sizes) else ("met" if ratio <= 1.2 else "missed"),
            ]
        )
    table(
        f"Session lookup vs table size ({data.engine.dialect.name}, {SAMPLE:,} tokens sampled over the table)",
        ["sessions", "µs/request", "p99 µs", "x smallest", "target ≤ 1.2"],
        rows,
    )
