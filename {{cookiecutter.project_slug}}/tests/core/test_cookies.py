"""The app's cookie helper (app.core.cookies): one name and one set of flags per environment."""

from __future__ import annotations

import pytest

from app.core.cookies import Cookies
from app.settings import AppSettings, Environment


def test_in_production_a_cookie_is_host_prefixed_secure_httponly_and_lax() -> None:
    cookies = Cookies(AppSettings(env=Environment.PRODUCTION, base_url="https://app.example.com"))
    assert cookies.name("session") == "__Host-session"
    header = cookies.make("session", "tok", max_age=60).to_header(header="")
    # __Host- is honoured by browsers only with Secure, Path=/ and no Domain.
    assert header.startswith("__Host-session=tok;")
    assert "Domain" not in header
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=lax", "Max-Age=60"} <= {a.strip() for a in header.split(";")}


@pytest.mark.parametrize("env", [Environment.DEVELOPMENT, Environment.TEST])
def test_elsewhere_a_cookie_keeps_its_plain_name_and_works_over_http(env: Environment) -> None:
    cookies = Cookies(AppSettings(env=env))
    assert cookies.name("session") == "session"
    cookie = cookies.make("session", "tok")
    assert (cookie.key, cookie.secure, cookie.httponly, cookie.path, cookie.samesite) == (
        "session",
        False,
        True,
        "/",
        "lax",
    )
    assert cookie.max_age is None  # a browser-session cookie unless the caller gives a lifetime


@pytest.mark.parametrize("env", [Environment.DEVELOPMENT, Environment.PRODUCTION])
def test_an_expired_cookie_has_the_same_name_and_flags_so_that_the_browser_drops_it(env: Environment) -> None:
    cookies = Cookies(AppSettings(env=env, base_url="https://app.example.com"))
    live, gone = cookies.make("trusted_device", "tok", max_age=600), cookies.expired("trusted_device")
    assert (gone.key, gone.path, gone.secure, gone.domain) == (live.key, live.path, live.secure, live.domain)
    assert (gone.value, gone.max_age) == ("", 0)


def test_a_caller_can_ask_for_samesite_strict() -> None:
    assert Cookies(AppSettings()).make("binding", "tok", same_site="strict").samesite == "strict"
