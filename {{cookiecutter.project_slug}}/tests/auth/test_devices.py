"""What the session list says about a user agent (parsed by ua-parser, put into words by app.auth.devices)."""

from __future__ import annotations

import pytest

from app.auth.devices import describe


@pytest.mark.parametrize(
    "user_agent,browser,os,kind",
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            "Chrome 124",
            "Windows 10",
            "desktop",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Safari/605.1.15",
            "Safari 17",
            "macOS",
            "desktop",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox 125", "Linux", "desktop"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17",
            "iOS 17",
            "mobile",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17",
            "iOS 17",
            "tablet",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Mobile Safari/537.36",
            "Chrome Mobile 124",
            "Android 14",
            "mobile",
        ),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "Googlebot 2", "", "bot"),
        ("curl/8.5.0", "curl 8", "", "other"),
        ("python-httpx/0.28.1", "", "", "other"),
        ("", "", "", "other"),
        (None, "", "", "other"),
    ],
)
def test_user_agents_in_words(user_agent: str | None, browser: str, os: str, kind: str) -> None:
    info = describe(user_agent)
    assert (info.browser, info.os, info.kind) == (browser, os, kind)


def test_names_say_what_is_known() -> None:
    assert describe("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0").name == (
        "Firefox 125 on Linux"
    )
    assert describe("curl/8.5.0").name == "curl 8"
    assert describe("SomethingNew/1.0 (X11; Linux x86_64)").name == "A browser on Linux"
    assert describe(None).name == "Unknown device"


def test_kind_labels() -> None:
    assert describe(None).kind_label == "Other device"
    assert describe("Googlebot/2.1 (+http://www.google.com/bot.html)").kind_label == "Bot"
    assert describe("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0").kind_label == "Desktop"
