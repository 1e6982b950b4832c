"""`python -m bench.prepare --url URL`: a database ready for HTTP benchmarks run by another tool.

Migrates and fills the database (1,000 users and 10,000 sessions by default), builds every
case of bench/cases.py against it, and prints one JSON object: the environment a server needs
to run the app as the in-process benchmarks do, and each case's request (target app, path,
the header sets to rotate through, a fragment the answer must hold) or why it is not
available. The template repository's `make bench-compare` uses it and needs nothing else
from the project.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bench import apps
from bench.cases import Case, NotAvailable, Request, build_all
from bench.data import Dataset, migrate
from bench.loadgen import MAX_VARIANTS


def _case(case: Case, request: Request | NotAvailable) -> dict[str, Any]:
    described: dict[str, Any] = {"name": case.name, "target": case.target, "min_ratio": case.min_ratio}
    described["uses_db"] = case.uses_db
    if isinstance(request, NotAvailable):
        return described | {"not_available": request.reason}
    variants = [{k.decode(): v.decode() for k, v in headers} for headers in request.variants[:MAX_VARIANTS]]
    expect = request.expect_body.decode() if request.expect_body is not None else None
    return described | {"app": request.target, "path": request.path, "variants": variants, "expect": expect}


async def _prepare(url: str, users: int, sessions: int) -> dict[str, Any]:
    data = Dataset(url)
    app = apps.build(url, cookie_cache=False)
    try:
        await data.add_users(users)
        await data.grow_sessions(sessions)
        ctx = await apps.context(app, data, data.sample_tokens(MAX_VARIANTS))
        built = await build_all(ctx)
    finally:
        await data.close()
        await app.state.db.dispose()
    return {
        "environment": apps.environment(url, cookie_cache=False),
        "users": users,
        "sessions": sessions,
        "cases": [_case(case, request) for case, request in built],
        # The JWT case's downstream service: the claims it requires (it fetches the JWKS itself).
        "downstream": {k: v for k, v in ctx.downstream.items() if k != "jwks"},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prepare", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--url", required=True, help="database URL")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=10_000)
    args = parser.parse_args(argv)
    migrate(args.url)
    sys.stdout.write(json.dumps(asyncio.run(_prepare(args.url, args.users, args.sessions))) + "\n")


if __name__ == "__main__":
    main()
