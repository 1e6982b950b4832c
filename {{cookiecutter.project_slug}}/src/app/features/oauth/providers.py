"""The identity providers this app knows, and which of them the settings switch on.

OpenID Connect providers (Google, Microsoft, Apple, GitLab, any discovery URL) are described by
their discovery document; GitHub and Discord speak plain OAuth 2.0 and are read through their
user APIs. Each is keyed by a fixed issuer, so accounts are stored as (issuer, subject).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.features.oauth.settings import OAuthSettings

# Each provider's name in words, by `Provider.name`: on its buttons, and for the accounts linked
# with it (UI.labels). The generic OpenID Connect provider's buttons say OAUTH_OIDC_NAME.
LABELS = {
    "oidc": "Single sign-on",
    "google": "Google",
    "github": "GitHub",
    "microsoft": "Microsoft",
    "apple": "Apple",
    "discord": "Discord",
    "gitlab": "GitLab",
}


@dataclass(frozen=True)
class Provider:
    """One configured provider: where to send the browser, how to authenticate, what to ask for."""

    name: str  # the URL segment and Account.provider_id: google, github, ...
    label: str  # "Google"
    client_id: str
    client_secret: str | Callable[[], str]  # Apple signs a fresh JWT as its secret
    scopes: tuple[str, ...]
    # OpenID Connect: the discovery document gives the endpoints, the issuer and the JWKS.
    discovery_url: str | None = None
    # Plain OAuth 2.0 (no discovery): fixed endpoints and the issuer accounts are keyed by.
    issuer: str = ""
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    emails_url: str = ""  # GitHub: the addresses and whether each is verified
    token_auth: str = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    authorize_params: dict[str, str] = field(default_factory=dict)
    # Microsoft's multi-tenant issuer is a template: https://login.microsoftonline.com/{tenantid}/v2.0
    tenant_issuer: bool = False
    # Providers whose `email` claim is proven by the provider (see profiles.py).
    trusts_email_claim: bool = True

    @property
    def is_oidc(self) -> bool:
        """True for OpenID Connect providers (ID token, nonce, JWKS)."""
        return self.discovery_url is not None

    def secret(self) -> str:
        """The client secret to send to the token endpoint."""
        return self.client_secret() if callable(self.client_secret) else self.client_secret


def _apple_secret(oauth: OAuthSettings) -> Callable[[], str]:
    """Apple's client secret is an ES256 JWT signed with the team's key, valid for at most 6 months."""
    import time

    from joserfc import jwt
    from joserfc.jwk import ECKey

    key = ECKey.import_key(oauth.apple_key_pem())

    def secret() -> str:
        now = int(time.time())
        claims = {
            "iss": oauth.apple_team_id,
            "iat": now,
            "exp": now + 3600,
            "aud": "https://appleid.apple.com",
            "sub": oauth.apple_client_id,
        }
        return jwt.encode({"alg": "ES256", "kid": oauth.apple_key_id}, claims, key)

    return secret


def enabled_providers(oauth: OAuthSettings) -> dict[str, Provider]:
    """The providers whose client id is set, in the order the sign-in page shows them."""
    found: list[Provider] = []
    if oauth.oidc_client_id:
        found.append(
            Provider(
                "oidc",
                oauth.oidc_name,
                oauth.oidc_client_id,
                oauth.oidc_client_secret,
                tuple(oauth.oidc_scopes.split()),
                discovery_url=oauth.oidc_discovery_url,
            )
        )
    if oauth.google_client_id:
        found.append(
            Provider(
                "google",
                LABELS["google"],
                oauth.google_client_id,
                oauth.google_client_secret,
                ("openid", "email", "profile"),
                discovery_url="https://accounts.google.com/.well-known/openid-configuration",
            )
        )
    if oauth.github_client_id:
        found.append(
            Provider(
                "github",
                LABELS["github"],
                oauth.github_client_id,
                oauth.github_client_secret,
                ("read:user", "user:email"),
                issuer="https://github.com",
                authorize_url="https://github.com/login/oauth/authorize",
                token_url="https://github.com/login/oauth/access_token",  # noqa: S106 - a URL
                userinfo_url="https://api.github.com/user",
                emails_url="https://api.github.com/user/emails",
            )
        )
    if oauth.microsoft_client_id:
        tenant = oauth.microsoft_tenant
        found.append(
            Provider(
                "microsoft",
                LABELS["microsoft"],
                oauth.microsoft_client_id,
                oauth.microsoft_client_secret,
                ("openid", "email", "profile"),
                discovery_url=f"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration",
                tenant_issuer=tenant in ("common", "organizations", "consumers"),
                # Entra ID does not prove that a user owns the `email` of their profile (nOAuth).
                trusts_email_claim=False,
            )
        )
    if oauth.apple_client_id:
        found.append(
            Provider(
                "apple",
                LABELS["apple"],
                oauth.apple_client_id,
                _apple_secret(oauth),
                ("openid", "name", "email"),
                discovery_url="https://appleid.apple.com/.well-known/openid-configuration",
                token_auth="client_secret_post",  # noqa: S106 - a method name
                # Apple posts the answer back when it shares the name or the email.
                authorize_params={"response_mode": "form_post"},
            )
        )
    if oauth.discord_client_id:
        found.append(
            Provider(
                "discord",
                LABELS["discord"],
                oauth.discord_client_id,
                oauth.discord_client_secret,
                ("identify", "email"),
                issuer="https://discord.com",
                authorize_url="https://discord.com/oauth2/authorize",
                token_url="https://discord.com/api/oauth2/token",  # noqa: S106 - a URL
                userinfo_url="https://discord.com/api/users/@me",
            )
        )
    if oauth.gitlab_client_id:
        base = oauth.gitlab_url.rstrip("/")
        found.append(
            Provider(
                "gitlab",
                LABELS["gitlab"],
                oauth.gitlab_client_id,
                oauth.gitlab_client_secret,
                ("openid", "email", "profile"),
                discovery_url=f"{base}/.well-known/openid-configuration",
            )
        )
    return {provider.name: provider for provider in found}
