"""Commands added to Litestar's CLI: the app passes every group (`app db ...`, `app users ...` ...)."""

from __future__ import annotations

from collections.abc import Sequence

from click import Command, Group
from litestar.plugins import CLIPluginProtocol


class AppCLIPlugin(CLIPluginProtocol):
    """Registers the given commands (the core's, the auth core's and every enabled feature's).

    A group named like one registered before it adds its commands to that one: a feature extends
    `app users ...` with a group of its own called `users`.
    """

    def __init__(self, commands: Sequence[Command]) -> None:
        self.commands = list(commands)

    def on_cli_init(self, cli: Group) -> None:
        for command in self.commands:
            existing = cli.commands.get(command.name or "")
            if isinstance(existing, Group) and isinstance(command, Group) and existing is not command:
                for name, sub in command.commands.items():
                    if existing.commands.get(name) not in (None, sub):
                        raise RuntimeError(f"two parts add the command `{command.name} {name}`")
                    existing.add_command(sub)
            else:
                cli.add_command(command)
