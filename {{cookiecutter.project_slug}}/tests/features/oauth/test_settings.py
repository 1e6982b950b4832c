"""OAUTH_* settings: every mistake reported at start-up in words, providers switched on by their ids."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey

from app.features.oauth.providers import enabled_providers
from app.features.oauth.settings import OAuthSettings, problems
from tests.conftest import settings_problems

ENV_PREFIXES = ("OAUTH_",)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OAUTH_* from the developer's shell or .env."""
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(Path(__file__).parent)  # away from a project .env


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_nothing_configured_is_valid_and_enables_nothing() -> None:
    oauth = OAuthSettings()
    assert problems(oauth, production=True) == []
    assert enabled_providers(oauth) == {}


def test_an_id_without_its_secret_is_reported() -> None:
    found = settings_problems(
        oauth={"google_client_id": "abc.apps.googleusercontent.com", "github_client_secret": "s3cret"}
    )
    assert "OAUTH_GOOGLE_CLIENT_SECRET must be set too: a provider needs its id and its secret." in found
    assert "OAUTH_GITHUB_CLIENT_ID must be set too: a provider needs its id and its secret." in found


def test_generic_provider_needs_an_https_discovery_url() -> None:
    oauth = OAuthSettings(oidc_client_id="x", oidc_client_secret="y")
    assert any("OAUTH_OIDC_DISCOVERY_URL must be set" in p for p in problems(oauth, production=False))
    oauth = OAuthSettings(oidc_client_id="x", oidc_client_secret="y", oidc_discovery_url="http://idp.example.com/")
    assert any("must be an https:// URL" in p for p in problems(oauth, production=False))
    loopback = OAuthSettings(oidc_client_id="x", oidc_client_secret="y", oidc_discovery_url="http://127.0.0.1:9/")
    assert problems(loopback, production=False) == []
    assert any("must be an https:// URL" in p for p in problems(loopback, production=True))
    no_openid = OAuthSettings(
        oidc_client_id="x", oidc_client_secret="y", oidc_discovery_url="https://idp.example/", oidc_scopes="email"
    )
    assert "OAUTH_OIDC_SCOPES must include openid." in problems(no_openid, production=False)


def test_invalid_values_are_reported_by_name() -> None:
    found = settings_problems(oauth={"state_ttl": 5, "microsoft_tenant": "bad tenant/"})
    assert any(p.startswith("OAUTH_STATE_TTL:") for p in found)
    assert any(p.startswith("OAUTH_MICROSOFT_TENANT:") for p in found)


def test_apple_needs_all_four_parts_and_a_p256_key(tmp_path: Path) -> None:
    partial = OAuthSettings(apple_client_id="com.example.web")
    found = problems(partial, production=False)
    assert any("OAUTH_APPLE_TEAM_ID must be set too" in p for p in found)
    assert any("OAUTH_APPLE_PRIVATE_KEY or OAUTH_APPLE_PRIVATE_KEY_FILE must be set" in p for p in found)
    garbage = OAuthSettings(
        apple_client_id="com.example.web", apple_team_id="T", apple_key_id="K", apple_private_key="not a key"
    )
    assert any("cannot read the key" in p for p in problems(garbage, production=False))
    rsa_key = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    wrong = OAuthSettings(
        apple_client_id="com.example.web", apple_team_id="T", apple_key_id="K", apple_private_key=rsa_key
    )
    assert any("P-256" in p for p in problems(wrong, production=False))
    key_file = tmp_path / "AuthKey_K.p8"
    key_file.write_text(_pem(ec.generate_private_key(ec.SECP256R1())))
    good = OAuthSettings(
        apple_client_id="com.example.web", apple_team_id="T", apple_key_id="K", apple_private_key_file=str(key_file)
    )
    assert problems(good, production=True) == []


def test_apple_client_secret_is_a_jwt_signed_with_the_team_key() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = _pem(private).replace("\n", "\\n")  # as it fits on one line of .env
    oauth = OAuthSettings(
        apple_client_id="com.example.web", apple_team_id="TEAM123456", apple_key_id="KEY1234567", apple_private_key=pem
    )
    apple = enabled_providers(oauth)["apple"]
    public = ECKey.import_key(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = jwt.decode(apple.secret(), public, algorithms=["ES256"])
    assert token.header["kid"] == "KEY1234567"
    claims = token.claims
    assert claims["iss"] == "TEAM123456" and claims["sub"] == "com.example.web"
    assert claims["aud"] == "https://appleid.apple.com" and claims["exp"] > time.time()
    assert apple.token_auth == "client_secret_post"
    assert apple.authorize_params == {"response_mode": "form_post"}


def test_each_provider_is_switched_on_by_its_id() -> None:
    oauth = OAuthSettings(
        google_client_id="g",
        google_client_secret="g",
        github_client_id="h",
        github_client_secret="h",
        microsoft_client_id="m",
        microsoft_client_secret="m",
        discord_client_id="d",
        discord_client_secret="d",
        gitlab_client_id="l",
        gitlab_client_secret="l",
        gitlab_url="https://gitlab.example.com/",
    )
    providers = enabled_providers(oauth)
    assert list(providers) == ["google", "github", "microsoft", "discord", "gitlab"]
    assert providers["gitlab"].discovery_url == "https://gitlab.example.com/.well-known/openid-configuration"
    assert providers["microsoft"].tenant_issuer and not providers["microsoft"].trusts_email_claim
    assert not providers["github"].is_oidc and providers["github"].issuer == "https://github.com"


def test_start_up_stops_with_every_problem_listed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The feature's problems come with the core's, in one list, with the core's exit status (2).

    What an operator does: the process starts from the environment (here the only place to
    put OAUTH_* for `settings_or_exit`, which reads nothing else).
    """
    from app.asgi import settings_or_exit

    monkeypatch.setenv("OAUTH_GOOGLE_CLIENT_ID", "abc")
    monkeypatch.setenv("OAUTH_DISCORD_CLIENT_SECRET", "def")
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("APP_BASE_URL", "https://app.example.com")
    monkeypatch.setenv("APP_DEBUG", "true")
    with pytest.raises(SystemExit) as stopped:
        settings_or_exit()
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert message.startswith("The configuration is not valid:")
    assert "OAUTH_GOOGLE_CLIENT_SECRET must be set too" in message
    assert "OAUTH_DISCORD_CLIENT_ID must be set too" in message
    assert "APP_DEBUG must be off in production." in message


def test_apple_name_comes_from_its_first_form_post() -> None:
    from app.features.oauth.profiles import Profile, with_apple_name

    bare = Profile("https://appleid.apple.com", "001.abc", "a@privaterelay.appleid.com", True, None, None)
    posted = '{"name": {"firstName": "Grace", "lastName": "Hopper"}, "email": "a@privaterelay.appleid.com"}'
    assert with_apple_name(bare, posted).name == "Grace Hopper"
    assert with_apple_name(bare, "not json").name is None
    assert with_apple_name(bare, None) is bare


def test_microsoft_addresses_count_as_verified_only_when_microsoft_vouches() -> None:
    from app.features.oauth.profiles import MICROSOFT_CONSUMERS_TENANT, email_verified

    work = {"tid": "11111111-2222-3333-4444-555555555555", "email": "ceo@victim.example"}
    assert not email_verified("microsoft", False, {**work, "email_verified": True})  # nOAuth: not trusted
    assert email_verified("microsoft", False, {**work, "xms_edov": True})
    assert email_verified("microsoft", False, {"tid": MICROSOFT_CONSUMERS_TENANT, "email": "me@outlook.com"})
    assert email_verified("google", True, {"email_verified": True})
    assert email_verified("apple", True, {"email_verified": "true"})
    assert not email_verified("google", True, {"email_verified": "yes"})
