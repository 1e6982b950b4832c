"""OAUTH_*: which identity providers are switched on (by their client id and secret) and how they behave.

A provider is enabled when its client id is set; its secret (or, for Apple, the key that signs
the secret) must then be set too. Every problem is reported at start-up, all at once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from app.settings import FeatureSettings, Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class OAuthSettings(FeatureSettings):
    """Settings of the OAuth / OpenID Connect sign-in feature."""

    model_config = SettingsConfigDict(env_prefix="OAUTH_")
    group = "oauth"

    google_client_id: str = ""
    google_client_secret: str = ""
    github_client_id: str = ""
    github_client_secret: str = ""
    microsoft_client_id: str = ""
    microsoft_client_secret: str = ""
    # "common" (work and personal accounts), "organizations", "consumers" or one tenant's id.
    microsoft_tenant: str = Field(default="common", pattern=r"^[A-Za-z0-9.\-]{1,100}$")
    apple_client_id: str = ""  # the Services ID, e.g. com.example.web
    apple_team_id: str = ""
    apple_key_id: str = ""
    apple_private_key: str = ""  # the .p8 file's PEM text (\n may be written as a literal backslash-n)
    apple_private_key_file: str = ""  # or the path of the .p8 file
    discord_client_id: str = ""
    discord_client_secret: str = ""
    gitlab_client_id: str = ""
    gitlab_client_secret: str = ""
    gitlab_url: str = "https://gitlab.com"
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_discovery_url: str = ""  # https://idp.example.com/.well-known/openid-configuration
    oidc_name: str = Field(default="Single sign-on", min_length=1, max_length=40)
    oidc_scopes: str = "openid email profile"
    # Link a provider account to the user with the same address when both sides verified it.
    auto_link: bool = True
    # Seconds a started sign-in may take at the provider.
    state_ttl: int = Field(default=600, ge=60, le=3600)
    # Seconds allowed for each request to a provider.
    http_timeout: float = Field(default=10.0, gt=0, le=60)

    def problems(self, settings: Settings) -> list[str]:
        """Every inconsistency between the OAUTH_* variables (see `problems` below)."""
        return problems(self, settings.app.is_production)

    def apple_key_pem(self) -> str:
        """The Apple signing key as PEM text, from OAUTH_APPLE_PRIVATE_KEY or the file it names."""
        if self.apple_private_key:
            return self.apple_private_key.replace("\\n", "\n")
        if self.apple_private_key_file:
            with open(self.apple_private_key_file, encoding="utf-8") as handle:  # noqa: PTH123 - read once at start-up
                return handle.read()
        return ""


PAIRS = ("google", "github", "microsoft", "discord", "gitlab", "oidc")


def _url_problem(name: str, url: str, production: bool) -> str | None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK and not production:
        return None
    return f"{name}: {url!r} must be an https:// URL (http:// only for localhost outside production)."


def problems(oauth: OAuthSettings, production: bool) -> list[str]:
    """Every inconsistency between the OAUTH_* variables."""
    found = []
    for name in PAIRS:
        client_id, secret = getattr(oauth, f"{name}_client_id"), getattr(oauth, f"{name}_client_secret")
        if bool(client_id) != bool(secret):
            missing = "CLIENT_SECRET" if client_id else "CLIENT_ID"
            found.append(f"OAUTH_{name.upper()}_{missing} must be set too: a provider needs its id and its secret.")
    if oauth.oidc_client_id and not oauth.oidc_discovery_url:
        found.append("OAUTH_OIDC_DISCOVERY_URL must be set: the generic provider is found through its discovery URL.")
    if oauth.oidc_discovery_url:
        problem = _url_problem("OAUTH_OIDC_DISCOVERY_URL", oauth.oidc_discovery_url, production)
        found += [problem] if problem else []
        if "openid" not in oauth.oidc_scopes.split():
            found.append("OAUTH_OIDC_SCOPES must include openid.")
    if oauth.gitlab_client_id:
        problem = _url_problem("OAUTH_GITLAB_URL", oauth.gitlab_url, production)
        found += [problem] if problem else []
    found += _apple_problems(oauth)
    return found


def _apple_problems(oauth: OAuthSettings) -> list[str]:
    apple = [oauth.apple_client_id, oauth.apple_team_id, oauth.apple_key_id]
    has_key = bool(oauth.apple_private_key or oauth.apple_private_key_file)
    if not any(apple) and not has_key:
        return []
    found = [
        f"OAUTH_APPLE_{name} must be set too: Apple needs the Services ID, team id, key id and key."
        for name, value in zip(("CLIENT_ID", "TEAM_ID", "KEY_ID"), apple, strict=True)
        if not value
    ]
    if not has_key:
        found.append("OAUTH_APPLE_PRIVATE_KEY or OAUTH_APPLE_PRIVATE_KEY_FILE must be set (the .p8 key from Apple).")
        return found
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(oauth.apple_key_pem().encode(), password=None)
    except (OSError, ValueError, TypeError) as error:
        found.append(f"OAUTH_APPLE_PRIVATE_KEY: cannot read the key ({error.__class__.__name__}); use the .p8 file.")
        return found
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        found.append("OAUTH_APPLE_PRIVATE_KEY: Apple keys are P-256 (ES256) keys; this is another kind of key.")
    return found
