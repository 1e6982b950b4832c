"""`app keys rotate` and `app keys list`: the JWT signing keys from the command line."""

from __future__ import annotations

import anyio
import click
from litestar import Litestar
from litestar.cli._utils import LitestarGroup
from rich_click import RichCommand

from app.core.db import Database
from app.core.events import RequestMeta
from app.features.jwt.models import JwtKey
from app.features.jwt.service import Rotation, service_for


@click.group(cls=LitestarGroup, name="keys", help="JWT signing keys.")
def keys_group() -> None:
    """JWT signing keys."""


@click.command(
    cls=RichCommand,
    name="rotate",
    help="Sign with the key published at the last rotation and publish a new one; "
    "the retired key keeps verifying for JWT_GRACE_PERIOD.",
)
@click.option("--revoke", is_flag=True, help="After a leak: drop every older key from the JWKS at once.")
def keys_rotate(app: Litestar, revoke: bool) -> None:
    service = service_for(app)
    db: Database = app.state.db

    async def rotate() -> Rotation | None:
        async with db.sessions() as session:
            rotation = await service.rotate(session, RequestMeta(), "manual", revoke=revoke)
        await db.dispose()
        return rotation

    rotation = anyio.run(rotate)
    if rotation is None:  # only with `expected`, which a manual rotation never passes
        raise click.ClickException("Another rotation happened at the same time; run the command again.")
    click.echo(f"Signing with {rotation.signing}; published {rotation.published} for the next rotation.")
    if rotation.retired:
        fate = "removed from the JWKS" if revoke else f"verifying for {service.settings.grace_period} more seconds"
        click.echo(f"Retired {', '.join(rotation.retired)}: {fate}.")


@click.command(cls=RichCommand, name="list", help="Every stored key with its state.")
def keys_list(app: Litestar) -> None:
    service = service_for(app)
    db: Database = app.state.db

    async def load() -> list[JwtKey]:
        async with db.sessions() as session:
            keys = await service.all_keys(session)
        await db.dispose()
        return keys

    for key in anyio.run(load):
        if key.retired_at is not None:
            state = f"retired, verifies until {key.expires_at:%Y-%m-%d %H:%M} UTC"
        elif key.activated_at is not None:
            state = f"signing since {key.activated_at:%Y-%m-%d %H:%M} UTC"
        else:
            state = "published, signs after the next rotation"
        click.echo(f"{key.id}  {key.algorithm:<6} {state}")


keys_group.add_command(keys_rotate)
keys_group.add_command(keys_list)
