"""PASSKEYS_*: the relying party (who the passkeys are for) and the optional passkey-first sign-up.

The relying-party id, name and origins come from settings only, never from request headers:
a forged Host or Origin header cannot make the server accept a passkey made for another site.
Empty values follow APP_BASE_URL and APP_NAME.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from app.settings import AppSettings, FeatureSettings, Settings


class PasskeySettings(FeatureSettings):
    """Settings of the passkeys feature."""

    model_config = SettingsConfigDict(env_prefix="PASSKEYS_")
    group = "passkeys"

    rp_id: str = ""  # a domain: the host of APP_BASE_URL when empty
    rp_name: str = ""  # shown by the browser: APP_NAME when empty
    # Origins allowed in clientDataJSON, comma-separated: the origin of APP_BASE_URL when empty.
    origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allow_sign_up: bool = False  # passkey-first sign-up, with no password
    second_factor: bool = False  # a passkey is asked for after a password (needs the second-factor gate)

    @field_validator("origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    def problems(self, settings: Settings) -> list[str]:
        """The relying party's problems (see `_problems`), except on a development server on an IP address."""
        derived_host = urlsplit(settings.app.base_url).hostname or ""
        if not self.rp_id and not self.origins and _is_ip(derived_host) and not settings.app.is_production:
            # A development server on http://127.0.0.1: the app runs, passkeys are simply not offered
            # (their routes answer 503 with the reason). Set PASSKEYS_RP_ID, or use localhost, to use them.
            return []
        return _problems(self, settings.app)[1]


@dataclass(frozen=True)
class RelyingParty:
    """Who passkeys are made for, resolved once from the settings."""

    id: str
    name: str
    origins: tuple[str, ...]
    allow_sign_up: bool
    second_factor: bool


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_local(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost") or host == "127.0.0.1"


def _problems(passkeys: PasskeySettings, app: AppSettings) -> tuple[RelyingParty | None, list[str]]:
    base = urlsplit(app.base_url)
    rp_id = (passkeys.rp_id or base.hostname or "").lower()
    origins = tuple(passkeys.origins) or (f"{base.scheme}://{base.netloc}",)
    found = []
    if not rp_id or "/" in rp_id or ":" in rp_id or rp_id.startswith("."):
        found.append(f"PASSKEYS_RP_ID: {rp_id!r} is not a domain name (no scheme, port or path).")
    elif _is_ip(rp_id):
        found.append(
            f"PASSKEYS_RP_ID: {rp_id!r} is an IP address, and browsers only make passkeys for domain names "
            "(in development, use http://localhost:8000 as APP_BASE_URL)."
        )
    for origin in origins:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("https", "http") or not host or parts.path not in ("", "/"):
            found.append(f"PASSKEYS_ORIGINS: {origin!r} is not an origin like https://example.com.")
            continue
        if parts.scheme == "http" and app.env == "production" and not _is_local(host):
            found.append(f"PASSKEYS_ORIGINS: {origin!r} must use https in production.")
        if host != rp_id and not host.endswith("." + rp_id):
            found.append(
                f"PASSKEYS_ORIGINS: {origin!r} is not on PASSKEYS_RP_ID {rp_id!r} "
                "(the relying-party id must be the origin's host or a parent domain of it)."
            )
    if found:
        return None, found
    party = RelyingParty(
        id=rp_id,
        name=passkeys.rp_name or app.name,
        origins=tuple(o.rstrip("/") for o in origins),
        allow_sign_up=passkeys.allow_sign_up,
        second_factor=passkeys.second_factor,
    )
    return party, []


def relying_party(settings: Settings) -> RelyingParty:
    """The relying party for these settings; ValueError listing the problems otherwise."""
    party, found = _problems(settings.feature(PasskeySettings), settings.app)
    if party is None:
        raise ValueError("; ".join(found))
    return party
