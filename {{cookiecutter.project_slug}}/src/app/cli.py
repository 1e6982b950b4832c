"""The `app` command: Litestar's CLI with this project's app and commands preset.

`app run`, `app routes`, `app db upgrade`, `app users create`, `app sessions cleanup`,
`app audit export` and `app check` (which works even when the settings are broken, since it
reports them instead of building the app).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `app` script and of `python -m app`; `argv` defaults to the process's arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        from app.asgi import load_app_settings
        from app.core.cli.check import run_preflight
        from app.migrations import FOLDERS

        raise SystemExit(run_preflight(load_app_settings, FOLDERS))
    os.environ.setdefault("LITESTAR_APP", "app.asgi:create_app")
    from litestar.cli.main import litestar_group

    litestar_group.main(args=args, prog_name="app")
