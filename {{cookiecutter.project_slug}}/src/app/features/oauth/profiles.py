"""What a provider tells us about the person: the (issuer, subject) key and the profile to start with."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from app.features.oauth.client import ProviderClient, ProviderError


@dataclass(frozen=True)
class Profile:
    """A person as one provider knows them. `email_verified` is the provider's own assertion."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    image: str | None


SUBJECT_MAX = 255
# Personal Microsoft accounts live in this tenant; Microsoft verified their address at sign-up.
MICROSOFT_CONSUMERS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def _verified(value: Any) -> bool:
    # Apple sends "true" as a string; anything but an explicit yes counts as not verified.
    return value is True or value == "true"


def email_verified(provider_name: str, trusts_email_claim: bool, claims: dict[str, Any]) -> bool:
    """Whether the provider vouches for the address. Entra ID's `email` is whatever an organisation's
    admin typed (nOAuth): only a personal account, or the optional `xms_edov` claim (the address's
    domain is verified by its tenant), counts."""
    if provider_name == "microsoft":
        return claims.get("tid") == MICROSOFT_CONSUMERS_TENANT or _verified(claims.get("xms_edov"))
    return trusts_email_claim and _verified(claims.get("email_verified"))


def _https(url: Any) -> str | None:
    ok = isinstance(url, str) and url.startswith("https://") and len(url) <= 2048 and "\x00" not in url
    return url if ok else None


def _text(value: Any) -> str | None:
    return value.replace("\x00", "").strip() or None if isinstance(value, str) else None


async def read_profile(client: ProviderClient, token: dict[str, Any], nonce: str | None) -> Profile:
    """Verify what the provider returned and read the profile from it."""
    profile = await _read_profile(client, token, nonce)
    # The subject keys the account (a column of 255): a provider's odd one refuses the sign-in, not the server.
    if not 0 < len(profile.subject) <= SUBJECT_MAX or "\x00" in profile.subject:
        raise ProviderError(f"{client.provider.label} did not say who you are.", "subject")
    return profile


async def _read_profile(client: ProviderClient, token: dict[str, Any], nonce: str | None) -> Profile:
    provider = client.provider
    access_token = str(token["access_token"])
    if provider.is_oidc:
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not nonce:
            raise ProviderError(f"{provider.label} did not return an ID token.", "id-token-missing")
        claims = await client.verify_id_token(id_token, nonce)
        info: dict[str, Any] = {}
        metadata = await client.metadata()
        if metadata.userinfo_endpoint and provider.name != "apple":
            fetched = await client.userinfo(access_token)
            # The userinfo answer counts only if it is about the same subject (OIDC Core 5.3.2).
            if isinstance(fetched, dict) and fetched.get("sub") == claims["sub"]:
                info = fetched
        merged = {**info, **claims}
        name = _text(merged.get("name")) or " ".join(
            filter(None, [_text(merged.get("given_name")), _text(merged.get("family_name"))])
        )
        verified = email_verified(provider.name, provider.trusts_email_claim, merged)
        return Profile(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=_text(merged.get("email")),
            email_verified=verified,
            name=name or None,
            image=_https(merged.get("picture")),
        )
    if provider.name == "github":
        return await _github(client, access_token)
    if provider.name == "discord":
        return await _discord(client, access_token)
    raise ProviderError(f"{provider.label} is not supported.", "provider")


async def _github(client: ProviderClient, access_token: str) -> Profile:
    user = await client.userinfo(access_token)
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise ProviderError("GitHub did not say who you are.", "userinfo")
    emails = await client.userinfo(access_token, client.provider.emails_url)
    primary = (
        next((e for e in emails if isinstance(e, dict) and e.get("primary")), None)
        if isinstance(emails, list)
        else None
    )
    return Profile(
        issuer=client.provider.issuer,
        subject=str(user["id"]),
        email=_text(primary.get("email")) if primary else None,
        email_verified=bool(primary and primary.get("verified") is True),
        name=_text(user.get("name")) or _text(user.get("login")),
        image=_https(user.get("avatar_url")),
    )


async def _discord(client: ProviderClient, access_token: str) -> Profile:
    user = await client.userinfo(access_token)
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise ProviderError("Discord did not say who you are.", "userinfo")
    avatar = user.get("avatar")
    image = f"https://cdn.discordapp.com/avatars/{user['id']}/{avatar}.png" if isinstance(avatar, str) else None
    return Profile(
        issuer=client.provider.issuer,
        subject=user["id"],
        email=_text(user.get("email")),
        email_verified=user.get("verified") is True,
        name=_text(user.get("global_name")) or _text(user.get("username")),
        image=image,
    )


def with_apple_name(profile: Profile, posted_user: str | None) -> Profile:
    """Apple sends the name once, in the `user` field of its first form_post, never in the ID token."""
    if profile.name or not posted_user or len(posted_user) > 1024:
        return profile
    try:
        name = json.loads(posted_user).get("name") or {}
        full = " ".join(filter(None, [_text(name.get("firstName")), _text(name.get("lastName"))]))
    except (ValueError, AttributeError):
        return profile
    return replace(profile, name=full or None)
