"""`app users promote EMAIL`: make a user an admin (the first one, say), from the server's shell."""

from __future__ import annotations

import anyio
import click
from litestar import Litestar
from litestar.cli._utils import LitestarGroup
from rich_click import RichCommand

from app.auth import AuthKit
from app.core.db import utcnow
from app.core.errors import AppError
from app.core.events import RequestMeta
from app.features.admin import access
from app.features.admin.service import ROLE_SET


@click.group(cls=LitestarGroup, name="users", help="Manage users.")
def users_group() -> None:
    """Manage users (joined with the auth core's `users` group)."""


@click.command(cls=RichCommand, name="promote", help="Give a user the admin role.")
@click.argument("email")
def users_promote(app: Litestar, email: str) -> None:
    kit: AuthKit = app.state.auth

    async def promote() -> bool:
        async with kit.db.sessions() as db:
            user = await kit.user_by_email(db, kit.normalize_email(email))
            if user is None:
                raise click.ClickException(f"No user has the email {email}.")
            if access.ADMIN in access.roles_of(user.role):
                return False
            previous, user.role, user.updated_at = user.role, access.ADMIN, utcnow()
            db.add(user)
            await kit.record(
                db,
                ROLE_SET,
                RequestMeta(),
                actor=None,
                target_type="user",
                target_id=user.id,
                role=user.role,
                previous=previous,
            )
            await db.commit()
            return True

    try:
        changed = anyio.run(promote)
    except AppError as error:
        raise click.ClickException(error.message) from None
    finally:
        anyio.run(kit.db.dispose)
    click.echo(f"{email} is {'now' if changed else 'already'} an admin.")


users_group.add_command(users_promote)
