"""`python -m bench`: run the benchmarks and print their tables (see bench/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench import apps, downstream
from bench.admin import run_admin
from bench.asgi import Lifespan
from bench.bare import app as bare_app
from bench.cases import build_all
from bench.data import Dataset, scratch_database
from bench.inprocess import run_cases
from bench.over_http import run_http
from bench.report import status
from bench.scale import run_scale
from bench.signin import run_sign_in

PARTS = ("cases", "sign-in", "scale", "http", "admin")
OPT_IN = ("http", "admin")  # run when asked: --http, or --only
TOKENS = 256  # sessions the in-process cases rotate over


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of the hot paths.")
    parser.add_argument("--smoke", action="store_true", help="tiny data, short runs: proves the benchmarks work")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="server for --db=postgresql; a scratch database is created and dropped "
        "(default: BENCH_POSTGRES_URL or postgresql+asyncpg://postgres@127.0.0.1:5432/test)",
    )
    parser.add_argument("--users", type=int, default=None, help="users to create (default 1000)")
    parser.add_argument(
        "--sessions",
        default=None,
        help="session table sizes, comma-separated; the first is used by every case, the rest by "
        "the size check (default 10000,1000000)",
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds per measurement (default 2)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds, in rotating order (default 3)")
    parser.add_argument("--http", action="store_true", help="also run the cases over HTTP with wrk")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument(
        "--admin-users", type=int, default=None, help="users for the admin console's part (default 100000)"
    )
    parser.add_argument("--only", default=None, help=f"comma-separated subset of: {', '.join(PARTS)}")
    args = parser.parse_args(argv)
    smoke = args.smoke
    args.users = args.users or (100 if smoke else 1000)
    args.sessions = [int(n) for n in (args.sessions or ("1000,5000" if smoke else "10000,1000000")).split(",")]
    args.duration = args.duration or (0.5 if smoke else 2.0)
    args.rounds = args.rounds or (1 if smoke else 3)
    args.admin_users = args.admin_users or (2000 if smoke else 100_000)
    default = [p for p in PARTS if p not in OPT_IN or (p == "http" and args.http)]
    parts = set((args.only or ",".join(default)).split(","))
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}")
    args.parts = parts
    return args


async def run(args: argparse.Namespace) -> None:
    if args.parts - {"admin"}:
        await run_hot_paths(args)
    if "admin" in args.parts:
        await run_admin(args.db, args.postgres_url, args.admin_users, args.duration, args.rounds)


async def run_hot_paths(args: argparse.Namespace) -> None:
    async with scratch_database(args.db, args.postgres_url) as url:
        status(f"{args.db}: {args.users:,} users, {args.sessions[0]:,} sessions")
        data = Dataset(url)
        app = apps.build(url, cookie_cache=False)
        cached = apps.build(url, cookie_cache=True)
        try:
            await data.add_users(args.users)
            await data.grow_sessions(args.sessions[0])
            async with Lifespan(bare_app), Lifespan(app), Lifespan(cached):
                ctx = await apps.context(app, data, data.sample_tokens(TOKENS))
                built = await build_all(ctx)
                if "cases" in args.parts:
                    in_process = {"bare": bare_app, "app": app, "app-cached": cached}
                    if ctx.downstream:
                        in_process["downstream"] = downstream.in_process(**ctx.downstream)
                    await run_cases(in_process, built, args.duration, args.rounds)
                if "sign-in" in args.parts:
                    await run_sign_in(app, args.duration * 2)
                if "http" in args.parts:
                    seconds = max(1, round(args.duration * 2))
                    await asyncio.to_thread(
                        run_http, url, built, seconds, args.rounds, args.connections, ctx.downstream
                    )
                if "scale" in args.parts:
                    await run_scale(app, data, args.sessions, args.duration, args.rounds)
        finally:
            await data.close()


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    asyncio.run(run(args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
