"""`app check`: the production preflight. Prints a pass/fail checklist; exit 1 if anything fails."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiosmtplib
import anyio
import click
from sqlalchemy import text

from app.core.db import Database
from app.core.migrations import pending_migrations
from app.settings import Settings, SettingsError

Check = Callable[[Settings], Awaitable[str]]


async def _database(settings: Settings, folders: Sequence[Path]) -> str:
    db = Database(settings.database)
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            pending = await conn.run_sync(pending_migrations, folders)
    finally:
        await db.dispose()
    if pending:
        raise RuntimeError(f"pending migrations: {', '.join(pending)} (run `app db upgrade`)")
    return "reachable, migrations current"


async def _mail(settings: Settings) -> str:
    mail = settings.mail
    if mail.backend == "console":
        if settings.app.is_production:
            raise RuntimeError("MAIL_BACKEND=console would print mails instead of sending them")
        return "console backend (development)"
    client = aiosmtplib.SMTP(
        hostname=mail.smtp_host,
        port=mail.smtp_port,
        timeout=mail.smtp_timeout,
        use_tls=mail.smtp_security == "tls",
        start_tls=mail.smtp_security == "starttls",
    )
    await client.connect()
    if mail.smtp_username:
        await client.login(mail.smtp_username, mail.smtp_password)
    await client.quit()
    return f"SMTP {mail.smtp_host}:{mail.smtp_port} accepts connections"


async def _redis(settings: Settings) -> str:
    if not settings.redis.url:
        if settings.app.is_production:
            return "not set: rate limits are per process (fine for a single instance)"
        return "not set: memory store"
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis.url)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return "reachable"


def run_preflight(load: Callable[[], Settings], migrations: Sequence[Path]) -> int:
    """Run every check, print one line each, return the exit status.

    `load` reads the app's settings (every group, the enabled features' included) and
    `migrations` are its version folders: the app gives both (app.cli).
    """
    try:
        settings = load()
    except SettingsError as error:
        click.echo("[FAIL] settings")
        for problem in error.problems:
            click.echo(f"       - {problem}")
        return 1
    failures = 0
    env = settings.app.env.value
    click.echo(f"[PASS] settings (APP_ENV={env})")
    if not settings.app.is_production:
        click.echo("[WARN] APP_ENV is not production: the production rules were not applied")
    checks: list[tuple[str, Check]] = [
        ("database", functools.partial(_database, folders=migrations)),
        ("mail", _mail),
        ("redis", _redis),
    ]
    for name, check in checks:
        try:
            detail = anyio.run(check, settings)
        except Exception as error:  # every failure becomes a checklist line, never a traceback
            failures += 1
            click.echo(f"[FAIL] {name}: {error or type(error).__name__}")
        else:
            click.echo(f"[PASS] {name}: {detail}")
    return 1 if failures else 0
