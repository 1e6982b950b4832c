"""Benchmarks of the hot paths. They print figures; nothing here passes or fails a build.

    make bench                                 in-process: µs per request, sign-in, 10k vs 1M sessions
    make bench BENCH_ARGS="--db=postgresql"    the same on PostgreSQL (BENCH_POSTGRES_URL)
    make bench BENCH_ARGS="--http"             also through uvicorn (and granian) with wrk
    make bench BENCH_ARGS="--smoke"            a quick run that only proves the benchmarks work
    make bench BENCH_ARGS="--only admin"       the admin console's pages at 100,000 users

See `python -m bench --help` and docs/performance.md.
"""
