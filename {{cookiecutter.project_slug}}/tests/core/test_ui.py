"""Page helpers (app.core.ui): how every page shows a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.core.ui import moment


def test_a_moment_is_a_time_element_in_utc_that_app_js_localises() -> None:
    at = datetime(2026, 5, 3, 16, 5, 9, 500000, tzinfo=timezone(timedelta(hours=2)))
    assert str(moment(at)) == '<time datetime="2026-05-03T14:05:09Z" data-local>3 May 2026, 14:05 UTC</time>'
    assert str(moment(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))).endswith(">22 Nov 2026, 09:00 UTC</time>")
