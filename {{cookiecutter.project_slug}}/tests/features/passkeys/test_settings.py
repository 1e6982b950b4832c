"""The relying party comes from settings, checked at start-up with messages that say what to fix."""

from __future__ import annotations

from typing import Any

import pytest

from app.features.passkeys.settings import PasskeySettings, relying_party
from app.settings import (
    AppSettings,
    AuthSettings,
    DatabaseSettings,
    Environment,
    MailSettings,
    RateLimitSettings,
    RedisSettings,
    SecretSettings,
    Settings,
)
from tests.conftest import AppFactory, Client, settings_problems


def app_settings(base_url: str = "https://app.example.com", env: str = "production", **passkeys: Any) -> Settings:
    """Settings as given, not validated (relying_party and `problems` are what is tested)."""
    app = AppSettings(base_url=base_url, name="My App", env=Environment(env))
    groups = (SecretSettings(), DatabaseSettings(), RedisSettings(), MailSettings(), AuthSettings())
    return Settings(app, *groups, RateLimitSettings(), features=[PasskeySettings(**passkeys)])


def check_settings(settings: Settings) -> list[str]:
    return settings.feature(PasskeySettings).problems(settings)


def test_defaults_follow_the_base_url_and_app_name() -> None:
    party = relying_party(app_settings())
    assert (party.id, party.name, party.origins) == ("app.example.com", "My App", ("https://app.example.com",))


def test_a_parent_domain_may_be_the_rp_id() -> None:
    settings = app_settings(rp_id="example.com", origins=["https://app.example.com", "https://www.example.com"])
    party = relying_party(settings)
    assert party.id == "example.com"
    assert party.origins == ("https://app.example.com", "https://www.example.com")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rp_id": "https://example.com"}, "PASSKEYS_RP_ID"),
        ({"rp_id": "other.com"}, "is not on PASSKEYS_RP_ID"),
        ({"origins": ["app.example.com"]}, "is not an origin"),
        ({"origins": ["http://app.example.com"]}, "must use https in production"),
        ({"origins": ["https://app.example.com/path"]}, "is not an origin"),
    ],
)
def test_bad_settings_are_explained(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        relying_party(app_settings(**values))


def test_start_up_report_reads_the_settings() -> None:
    problems = check_settings(app_settings(rp_id="elsewhere.org"))
    assert problems and all(p.startswith("PASSKEYS_ORIGINS") for p in problems)
    origins = "https://login.elsewhere.org, https://elsewhere.org"
    assert check_settings(app_settings(rp_id="elsewhere.org", origins=origins)) == []
    problems = settings_problems(passkeys={"rp_id": "elsewhere.org", "origins": origins, "allow_sign_up": "perhaps"})
    assert any("PASSKEYS_ALLOW_SIGN_UP" in p for p in problems)
    # Reported at start-up with every other problem: the core's and the relying party's at once.
    problems = settings_problems(app={"base_url": "ftp://x"}, passkeys={"allow_sign_up": "perhaps"})
    assert any(p.startswith("APP_BASE_URL") for p in problems) and any("PASSKEYS_ALLOW_SIGN_UP" in p for p in problems)


def test_an_ip_address_cannot_be_the_rp_id() -> None:
    with pytest.raises(ValueError, match="is an IP address"):
        relying_party(app_settings("http://127.0.0.1:8000", env="development"))
    # A development server on an IP still starts (passkeys are just not offered there) ...
    assert check_settings(app_settings("http://127.0.0.1:8000", env="development")) == []
    # ... but not in production, nor when the IP is asked for explicitly.
    assert any("IP address" in p for p in check_settings(app_settings("https://10.0.0.1")))
    explicit = app_settings("http://127.0.0.1:8000", env="development", rp_id="127.0.0.1")
    assert any("IP address" in p for p in check_settings(explicit))


def test_http_is_fine_on_localhost_and_outside_production() -> None:
    assert relying_party(app_settings("http://localhost:8000")).id == "localhost"
    assert relying_party(app_settings("http://dev.test", env="development")).id == "dev.test"


async def test_an_app_built_with_bad_settings_answers_clearly(make_app: AppFactory) -> None:
    app = make_app(app={"base_url": "http://127.0.0.1:8000"})
    async with Client(app=app, base_url="http://127.0.0.1:8000") as client:
        client.headers["origin"] = "http://127.0.0.1:8000"
        answer = await client.post("/api/auth/passkey/generate-authenticate-options")
    assert answer.status_code == 503
    assert answer.json()["code"] == "PASSKEYS_NOT_CONFIGURED"
    assert "IP address" in answer.json()["message"]
