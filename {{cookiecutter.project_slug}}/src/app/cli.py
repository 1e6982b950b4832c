"""The `app` command: Litestar's CLI with this project's app and commands preset.

`app run`, `app routes`, `app db upgrade`, `app users create`, `app sessions cleanup`,
`app audit export` and `app check` (which works even when the settings are broken, since it
reports them instead of building the app).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Entry point of the `app` script and of `python -m app`."""
    if sys.argv[1:2] == ["check"]:
        from app.core.cli.check import run_preflight

        raise SystemExit(run_preflight())
    os.environ.setdefault("LITESTAR_APP", "app.asgi:create_app")
    from litestar.cli.main import litestar_group

    litestar_group()
