"""A real SMTP server (aiosmtpd) for the tests, collecting what the app sends."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMail:
    """One delivered message, parsed."""

    to: list[str]
    subject: str
    text: str
    html: str

    def link(self, path_fragment: str) -> str:
        """The first URL in the text part containing `path_fragment`."""
        for url in re.findall(r"https?://[^\s<>\"]+", self.text):
            if path_fragment in url:
                return str(url)
        raise AssertionError(f"no link containing {path_fragment!r} in mail {self.subject!r}:\n{self.text}")


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        self.box.deliver(
            ReceivedMail(
                to=list(envelope.rcpt_tos),
                subject=str(message["subject"]),
                text=text.get_content() if text else "",
                html=html.get_content() if html else "",
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Mailbox:
    """Runs aiosmtpd on a free port in a thread; `wait_for` blocks until a matching mail arrives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self._cond = threading.Condition()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def deliver(self, mail: ReceivedMail) -> None:
        with self._cond:
            self.messages.append(mail)
            self._cond.notify_all()

    def to(self, address: str) -> list[ReceivedMail]:
        """Every mail delivered to `address` so far."""
        with self._cond:
            return [m for m in self.messages if address in m.to]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> ReceivedMail:
        """The `count`-th mail to `address` (1-based), waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self.messages if address in m.to]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no mail #{count} to {address} within {timeout}s; got {len(found)}")
                self._cond.wait(remaining)
