"""Commands added to Litestar's CLI: the app passes every group (`app db ...`, `app users ...` ...)."""

from __future__ import annotations

from collections.abc import Sequence

from click import Command, Group
from litestar.plugins import CLIPluginProtocol


class AppCLIPlugin(CLIPluginProtocol):
    """Registers the given commands (the core's, the auth core's and every enabled feature's)."""

    def __init__(self, commands: Sequence[Command]) -> None:
        self.commands = list(commands)

    def on_cli_init(self, cli: Group) -> None:
        for command in self.commands:
            cli.add_command(command)
