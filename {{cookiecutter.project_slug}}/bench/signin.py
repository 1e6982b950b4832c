"""Sign-in against one bare Argon2id verify, and the event loop's latency while sign-ins hash.

Sign-in = email check, lockout budget, one indexed SELECT (user and credential), one Argon2id verify in a worker
thread, a session row, an audit row, one commit. The target is sign-in ≤ 1.1 x the verify alone,
and cheap requests keep being served while hashes run (their p99 is shown idle and busy). The
verify alone, a bare Litestar POST that awaits the same verify and the sign-in are timed in turn,
so that the load of the machine weighs on all three. The bare POST is the floor of any sign-in on
this framework: what the sign-in takes beyond it is the app's own work (checks, rows, commit).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from typing import Any

from litestar import Litestar, post

from app.auth.passwords import Passwords
from bench.asgi import CLIENTS, Probe, call, check
from bench.data import BENCH_PASSWORD, email_for
from bench.report import status, table

CONCURRENT_SIGN_INS = 2
PROBE_PAUSE = 0.002  # a cheap request every 2 ms, as a client would send them, not back to back


def _bare_sign_in_app(passwords: Passwords, stored: str) -> Litestar:
    """A bare Litestar app whose one POST awaits the app's verify (same worker-thread hop) and answers."""

    @post("/sign-in", status_code=200)
    async def bare_sign_in(data: dict[str, Any]) -> dict[str, bool]:
        return {"user": await passwords.verify(stored, str(data.get("password", "")))}

    return Litestar(route_handlers=[bare_sign_in])


def _sign_in_probe(app: Litestar, origin: str) -> Probe:
    body = json.dumps({"email": email_for(0), "password": BENCH_PASSWORD, "rememberMe": True}).encode()
    headers = [(b"content-type", b"application/json"), (b"origin", origin.encode())]
    return Probe(app, "/api/auth/sign-in/email", [headers], method="POST", body=body, expect_body=b'"user"')


async def _latencies(probe: Probe, seconds: float, minimum: int = 5, pause: float = 0.0) -> list[float]:
    """Latencies (ms) of requests sent one after the other, `pause` seconds apart."""
    headers = list(probe.variants[0])
    clients = itertools.cycle(CLIENTS)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < minimum:
        started = time.perf_counter()
        await call(probe, headers, next(clients))
        samples.append((time.perf_counter() - started) * 1e3)
        if pause:
            await asyncio.sleep(pause)
    return samples


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run_sign_in(app: Litestar, seconds: float) -> None:
    """Print the sign-in table: verify vs sign-in, and /health latency idle vs during sign-ins."""
    passwords = app.state.auth.passwords
    stored = passwords.hasher.hash(BENCH_PASSWORD)
    sign_in = _sign_in_probe(app, app.state.settings.app.origin)
    bare = Probe(
        _bare_sign_in_app(passwords, stored),
        "/sign-in",
        [[(b"content-type", b"application/json")]],
        method="POST",
        body=sign_in.body,
        expect_body=b'"user":true',
    )
    health = Probe(app, "/health", expect_body=b'"ok"')
    await check(sign_in)
    await check(bare)
    await check(health)

    status("argon2id verify alone, a bare POST awaiting it, and sign-in, in turn (machine load hits all alike)")
    verify_ms: list[float] = []
    bare_ms: list[float] = []
    sign_in_ms: list[float] = []
    headers = list(sign_in.variants[0])
    bare_headers = list(bare.variants[0])
    clients = itertools.cycle(CLIENTS)
    deadline = time.perf_counter() + seconds * 3
    while time.perf_counter() < deadline or len(verify_ms) < 5:
        started = time.perf_counter()
        passwords.hasher.verify(stored, BENCH_PASSWORD)
        verify_ms.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        await call(bare, bare_headers)
        bare_ms.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        await call(sign_in, headers, next(clients))
        sign_in_ms.append((time.perf_counter() - started) * 1e3)
    status("/health idle, then while sign-ins run")
    idle = await _latencies(health, seconds / 2, minimum=50, pause=PROBE_PAUSE)
    stop = asyncio.Event()

    async def keep_signing_in(offset: int) -> int:
        done = 0
        while not stop.is_set():
            await call(sign_in, list(sign_in.variants[0]), CLIENTS[-1 - offset - 2 * done])
            done += 1
        return done

    workers = [asyncio.create_task(keep_signing_in(n)) for n in range(CONCURRENT_SIGN_INS)]
    await asyncio.sleep(0.05)
    busy = await _latencies(health, seconds, minimum=50, pause=PROBE_PAUSE)
    stop.set()
    signed_in = sum(await asyncio.gather(*workers))

    verify, floor, full = (statistics.median(ms) for ms in (verify_ms, bare_ms, sign_in_ms))
    settings = app.state.settings.auth
    profile = (
        f"m={settings.argon2_memory_kib // 1024} MiB, t={settings.argon2_time_cost}, p={settings.argon2_parallelism}"
    )
    table(
        "Sign-in (password) and the event loop",
        ["measure", "median", "p99", "note"],
        [
            [f"Argon2id verify alone ({profile})", f"{verify:.1f} ms", f"{_p99(verify_ms):.1f} ms", ""],
            [
                "bare Litestar POST awaiting that verify",
                f"{floor:.1f} ms",
                f"{_p99(bare_ms):.1f} ms",
                f"{floor / verify:.2f} x verify (the framework's floor)",
            ],
            [
                "POST /api/auth/sign-in/email",
                f"{full:.1f} ms",
                f"{_p99(sign_in_ms):.1f} ms",
                f"{full / verify:.2f} x verify (target ≤ 1.10: {'met' if full <= 1.1 * verify else 'missed'}); "
                f"{full - floor:.1f} ms over the bare POST",
            ],
            ["GET /health, idle", f"{statistics.median(idle) * 1e3:,.0f} µs", f"{_p99(idle) * 1e3:,.0f} µs", ""],
            [
                f"GET /health, {CONCURRENT_SIGN_INS} sign-ins in flight",
                f"{statistics.median(busy) * 1e3:,.0f} µs",
                f"{_p99(busy) * 1e3:,.0f} µs",
                f"{len(busy)} requests served beside {signed_in} sign-ins",
            ],
        ],
    )
