"""The auth core's commands: `app users create|ban|unban` and `app sessions cleanup`."""

from __future__ import annotations

import os
from datetime import timedelta

import anyio
import click
from litestar import Litestar
from litestar.cli._utils import LitestarGroup
from rich_click import RichCommand
from sqlalchemy import delete
from sqlmodel import col

from app.auth import flows
from app.auth.kit import AuthKit
from app.auth.models import CREDENTIAL_PROVIDER, Account, User, Verification
from app.core.db import Database, utcnow
from app.core.errors import AppError
from app.core.events import RequestMeta
from app.settings import Settings

PASSWORD_ENV = "APP_NEW_USER_PASSWORD"  # noqa: S105 - a name, not a secret


def _state(app: Litestar) -> tuple[Settings, Database, AuthKit]:
    return app.state.settings, app.state.db, app.state.auth


@click.group(cls=LitestarGroup, name="users", help="Manage users.")
def users_group() -> None:
    """Manage users."""


@click.command(
    cls=RichCommand, name="create", help=f"Create a verified user; the password comes from a prompt or ${PASSWORD_ENV}."
)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
def users_create(app: Litestar, email: str, name: str, admin: bool) -> None:
    _, db, auth = _state(app)
    password = os.environ.get(PASSWORD_ENV) or click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def create() -> str:
        async with db.sessions() as session:
            address = auth.normalize_email(email)
            clean = auth.clean_name(name)
            auth.check_password_length(password)
            auth.check_new_password(password, address)
            if await auth.user_by_email(session, address):
                raise click.ClickException(f"A user with the email {address} already exists.")
            user = User(name=clean, email=address, email_verified=True, role="admin" if admin else "user")
            session.add(user)
            await session.flush()
            session.add(
                Account(
                    user_id=user.id,
                    provider_id=CREDENTIAL_PROVIDER,
                    account_id=str(user.id),
                    password_hash=await auth.passwords.hash(password),
                )
            )
            await session.commit()
            return str(user.id)

    try:
        user_id = anyio.run(create)
    except AppError as error:
        raise click.ClickException(error.message) from None
    finally:
        anyio.run(db.dispose)
    click.echo(f"Created {'admin ' if admin else ''}user {user_id}.")


@click.command(cls=RichCommand, name="ban", help="Suspend a user: sessions end now, sign-in and keys are refused.")
@click.argument("email")
@click.option("--reason", default=None, help="Why (kept in the audit log and on the user).")
@click.option("--days", type=click.IntRange(min=1, max=36500), default=None, help="Lift the ban after N days.")
def users_ban(app: Litestar, email: str, reason: str | None, days: int | None) -> None:
    _, db, auth = _state(app)

    async def ban() -> int:
        async with db.sessions() as session:
            user = await auth.user_by_email(session, auth.normalize_email(email))
            if user is None:
                raise click.ClickException(f"No user has the email {email}.")
            until = utcnow() + timedelta(days=days) if days else None
            return len(await flows.account.ban_user(auth, session, RequestMeta(), user, reason, until))

    try:
        ended = anyio.run(ban)
    except AppError as error:
        raise click.ClickException(error.message) from None
    finally:
        anyio.run(db.dispose)
    click.echo(f"Banned {email}{f' for {days} days' if days else ''}; {ended} sessions ended.")


@click.command(cls=RichCommand, name="unban", help="Lift a user's ban.")
@click.argument("email")
def users_unban(app: Litestar, email: str) -> None:
    _, db, auth = _state(app)

    async def unban() -> None:
        async with db.sessions() as session:
            user = await auth.user_by_email(session, auth.normalize_email(email))
            if user is None:
                raise click.ClickException(f"No user has the email {email}.")
            await flows.account.unban_user(auth, session, RequestMeta(), user)

    try:
        anyio.run(unban)
    except AppError as error:
        raise click.ClickException(error.message) from None
    finally:
        anyio.run(db.dispose)
    click.echo(f"Lifted the ban on {email}.")


@click.group(cls=LitestarGroup, name="sessions", help="Session maintenance.")
def sessions_group() -> None:
    """Session maintenance."""


@click.command(cls=RichCommand, name="cleanup", help="Delete expired sessions and expired verification tokens.")
def sessions_cleanup(app: Litestar) -> None:
    _, db, auth = _state(app)

    async def cleanup() -> tuple[int, int]:
        async with db.sessions() as session:
            sessions = await auth.sessions.delete_expired(session)
            result = await session.exec(delete(Verification).where(col(Verification.expires_at) <= utcnow()))
            # Pending second-factor sign-ins and trusted browsers past their time are tokens too.
            stale = await auth.gate.delete_expired(session)
            await session.commit()
        await db.dispose()
        return sessions, int(result.rowcount or 0) + stale

    sessions, tokens = anyio.run(cleanup)
    click.echo(f"Deleted {sessions} expired sessions and {tokens} expired tokens.")


users_group.add_command(users_create)
users_group.add_command(users_ban)
users_group.add_command(users_unban)
sessions_group.add_command(sessions_cleanup)
COMMANDS = [users_group, sessions_group]
