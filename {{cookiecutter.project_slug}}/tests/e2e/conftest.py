"""Browser tests: the real app served by uvicorn on a free port, driven by Debian's Chromium.

The server runs in a thread with test settings (a migrated database of its own, mail over SMTP
to the `mailbox` fixture, verification required). Playwright never downloads a browser: it
launches /usr/bin/chromium, and the tests fail (never skip) when it is missing.
The async API, with one event loop for the module, keeps one browser for all tests; the sync
API would leave its loop marked as running and break the fixtures that migrate the database.
Every page a test opens is watched for console errors and Content-Security-Policy violations.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, ConsoleMessage, Dialog, Error, Page, async_playwright

from app.asgi import create_app
from tests.conftest import make_settings
from tests.mailbox import Mailbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
]
# Turns every CSP violation into a console error the watch below sees (an init script is not bound by the CSP).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


@dataclass
class LiveServer:
    """The running app: its base URL and the SMTP server receiving its mail."""

    url: str
    mailbox: Mailbox


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of a page; some statuses may be expected by a test."""

    errors: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # A form answered 422 (inline errors) is logged as "Failed to load resource"; a test says so.
        status = re.search(r"the server responded with a status of (\d{3})", message.text)
        if status and int(status.group(1)) in self.expected_statuses:
            return
        self.errors.append(f"{message.text} ({message.location.get('url', '?')})")

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught: {error.message}")

    def expect_status(self, status: int) -> None:
        """Accept the console line Chromium logs for an answer with this status (e.g. 422)."""
        self.expected_statuses.add(status)


class Confirmations:
    """Answers the page's confirm() questions (hx-confirm) in turn: `answers` True accepts, False
    dismisses; `asked` keeps each question. Playwright would dismiss every one silently; a
    question beyond the planned answers is dismissed too, and shows in `asked`."""

    def __init__(self, page: Page, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self._asked_more = asyncio.Event()
        page.on("dialog", self._answer)

    async def _answer(self, dialog: Dialog) -> None:
        self.asked.append(dialog.message)
        self._asked_more.set()
        if self.answers and self.answers.pop(0):
            await dialog.accept()
        else:
            await dialog.dismiss()

    async def wait_for(self, count: int) -> None:
        """Return once `count` questions were asked (TimeoutError after 5 s)."""
        async with asyncio.timeout(5):
            while len(self.asked) < count:
                self._asked_more.clear()
                await self._asked_more.wait()


def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    server.run(sockets=[sock])


@pytest.fixture
def feature_settings(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """Settings groups of features for the live server: none, or what a test gives with
    `@pytest.mark.parametrize("feature_settings", [...], indirect=True)` (a module may override it)."""
    given: dict[str, dict[str, Any]] = getattr(request, "param", {})
    return given


@pytest.fixture
def live_server(
    database_url: str, mailbox: Mailbox, feature_settings: dict[str, dict[str, Any]]
) -> Iterator[LiveServer]:
    """The app under uvicorn on 127.0.0.1:<free port>; stopped (and its mail drained) afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        database_url,
        mailbox.port,
        app={"base_url": url, "name": "E2E App"},
        auth={"allow_unverified_sign_in": False},
        **feature_settings,
    )
    config = uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=_serve, args=(server, sock), name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            pytest.fail(f"the app did not start on {url}; see the log above")
        time.sleep(0.02)
    yield LiveServer(url=url, mailbox=mailbox)
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()
    assert not thread.is_alive(), "uvicorn did not stop within 15 s"


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    """Debian's Chromium (`apt install chromium`); a missing browser fails the run with the fix."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests use the system's Chromium and never "
            "download one: install it (Debian/Ubuntu: `sudo apt install chromium`) or deselect them "
            "with `pytest -m 'not e2e'`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    """One Chromium for the module; each test gets a fresh context (profile) of it."""
    async with async_playwright() as driver:
        chromium = await driver.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
def console() -> ConsoleWatch:
    """What the page logged; checked when the page closes."""
    return ConsoleWatch()


async def _watched_page(browser: Browser, live_server: LiveServer, console: ConsoleWatch, **options: Any) -> Page:
    """A page in a new browser profile whose console errors and CSP violations go to `console`."""
    options.setdefault("viewport", {"width": 1280, "height": 800})
    context = await browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    await context.add_init_script(REPORT_CSP_VIOLATIONS)
    tab = await context.new_page()
    tab.on("console", console.on_console)
    tab.on("pageerror", console.on_page_error)
    return tab


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, live_server: LiveServer, console: ConsoleWatch) -> AsyncIterator[Page]:
    """A fresh browser profile on the live server; fails the test on console errors or CSP violations."""
    tab = await _watched_page(browser, live_server, console)
    yield tab
    await tab.context.close()
    assert not console.errors, "console errors or CSP violations:\n" + "\n".join(console.errors)


OpenPage = Callable[..., Awaitable[Page]]


@pytest_asyncio.fixture(loop_scope="module")
async def open_page(browser: Browser, live_server: LiveServer, console: ConsoleWatch) -> AsyncIterator[OpenPage]:
    """Opens more browser profiles (a user's other devices), watched like `page`.

    Takes Playwright's context options, e.g. `await open_page(user_agent=..., viewport=...)`.
    """
    opened: list[Page] = []

    async def open_one(**options: Any) -> Page:
        tab = await _watched_page(browser, live_server, console, **options)
        opened.append(tab)
        return tab

    yield open_one
    for tab in opened:
        await tab.context.close()
    assert not console.errors, "console errors or CSP violations:\n" + "\n".join(console.errors)
