"""Commands added to Litestar's CLI (`app db ...`, `app users ...`, `app audit ...`, `app sessions ...`)."""

from __future__ import annotations

from click import Group
from litestar.plugins import CLIPluginProtocol

from app.core.cli.commands import audit_group, db_group, sessions_group, users_group


class AppCLIPlugin(CLIPluginProtocol):
    """Registers the project's command groups, and every enabled feature's commands."""

    def on_cli_init(self, cli: Group) -> None:
        from app.features import ENABLED

        for group in (db_group, users_group, sessions_group, audit_group):
            cli.add_command(group)
        for feature in ENABLED:
            for command in feature.cli_commands:
                cli.add_command(command)
