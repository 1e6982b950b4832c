"""Outgoing mail: HTML and text parts rendered from templates, sent by console or SMTP.

Sending never blocks the request that caused it: `Mailer.send` renders the message, then hands
it to a background task; `Mailer.drain()` waits for pending sends (shutdown and tests).
`Mailer.run_later` runs the whole work of a mail in the background, when even its time must not
show in the answer (a reset link is made only for an address that has an account).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.settings import MailSettings

logger = logging.getLogger("app.mail")


@dataclass(frozen=True)
class Mail:
    """A rendered message ready to send."""

    to: str
    subject: str
    text: str
    html: str


@functools.cache
def _templates(template_dirs: tuple[Path, ...]) -> Environment:
    """The mail templates of these folders, compiled once per process (not once per Mailer)."""
    return Environment(
        loader=FileSystemLoader(template_dirs),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


class Mailer:
    """Renders mail templates (`mail/<name>.txt` and `.html`) and delivers them."""

    def __init__(self, settings: MailSettings, app_name: str, template_dirs: list[Path]) -> None:
        self.settings = settings
        self.app_name = app_name
        self.env = _templates(tuple(template_dirs))
        self._pending: set[asyncio.Task[None]] = set()
        self._in_flight = 0  # counted across threads: drain() may run on another event loop (tests)
        self._lock = threading.Lock()

    def render(self, to: str, template: str, **context: Any) -> Mail:
        """Render `mail/<template>.{txt,html}`; the subject is the text part's first line."""
        context = {"app_name": self.app_name, **context}
        text = self.env.get_template(f"mail/{template}.txt").render(context)
        subject, _, body = text.partition("\n")
        html = self.env.get_template(f"mail/{template}.html").render(context)
        return Mail(to=to, subject=subject.strip(), text=body.lstrip("\n"), html=html)

    def send(self, to: str, template: str, **context: Any) -> None:
        """Render now, deliver in the background."""
        mail = self.render(to, template, **context)
        self._start(self._deliver(mail))

    def run_later(self, job: Coroutine[Any, Any, None]) -> None:
        """Run `job` (which ends by sending a mail) after the answer, counted by `drain` like a delivery."""
        self._start(self._run(job))

    async def _run(self, job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
        except Exception:
            logger.exception("A background mail job failed")
        finally:
            with self._lock:
                self._in_flight -= 1

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        with self._lock:
            self._in_flight += 1
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self, max_wait: float = 30.0) -> None:
        """Wait until every queued mail has been delivered (or has failed and been logged)."""
        deadline = time.monotonic() + max_wait
        # Polled rather than an asyncio.Event: tests drain from another event loop than the app's.
        while self._in_flight and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def _deliver(self, mail: Mail) -> None:
        try:
            if self.settings.backend == "console":
                self._print(mail)
            else:
                await self._smtp(mail)
        except Exception:
            logger.exception("Could not send %r to %s", mail.subject, mail.to)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _print(self, mail: Mail) -> None:
        rule = "-" * 72
        sys.stdout.write(f"{rule}\nTo: {mail.to}\nSubject: {mail.subject}\n\n{mail.text}\n{rule}\n")
        sys.stdout.flush()

    async def _smtp(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.from_address
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid()
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        security = self.settings.smtp_security
        await aiosmtplib.send(
            message,
            hostname=self.settings.smtp_host,
            port=self.settings.smtp_port,
            username=self.settings.smtp_username or None,
            password=self.settings.smtp_password or None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            timeout=self.settings.smtp_timeout,
        )
