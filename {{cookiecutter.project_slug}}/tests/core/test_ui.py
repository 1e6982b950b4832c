"""Page helpers (app.core.ui): how every page shows a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.core.errors import InvalidInput, TooManyAttempts
from app.core.ui import form_error, form_error_status, moment


def test_a_moment_is_a_time_element_in_utc_that_app_js_localises() -> None:
    at = datetime(2026, 5, 3, 16, 5, 9, 500000, tzinfo=timezone(timedelta(hours=2)))
    assert str(moment(at)) == '<time datetime="2026-05-03T14:05:09Z" data-local>3 May 2026, 14:05 UTC</time>'
    assert str(moment(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))).endswith(">22 Nov 2026, 09:00 UTC</time>")


def test_a_service_error_goes_next_to_its_field_and_the_form_keeps_what_was_typed_but_passwords() -> None:
    error = InvalidInput("Your current password is not correct.", field="currentPassword")
    typed = {"current_password": "hunter2", "new_password": "longer one", "revoke_others": "on"}
    context = form_error(error, typed, renamed={"currentPassword": "current_password"})
    assert context == {
        "errors": {"current_password": "Your current password is not correct."},
        "form_error": None,
        "form": {"revoke_others": "on"},
    }
    assert form_error_status(error) == 422


def test_an_error_that_names_no_field_goes_above_the_form_and_a_limit_answers_429() -> None:
    error = TooManyAttempts(60, "Too many emails sent to this address. Wait a minute.")
    assert form_error(error) == {"errors": {}, "form_error": "Too many emails sent to this address. Wait a minute."}
    assert form_error_status(error) == 429
