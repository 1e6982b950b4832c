"""Talking to a provider with authlib's httpx client: discovery, the authorization URL, the code
exchange (PKCE S256) and the ID token check with joserfc. Nothing here is hand-written OAuth.

Failures raise `ProviderError` with a message for people; the caller turns it into a refusal.
"""

from __future__ import annotations

import functools
import ssl
import time
import warnings
from dataclasses import dataclass
from typing import Any

import authlib.deprecate  # noqa: F401 - it sets its own warning filters on import; ours go on top
import httpx
from authlib.common.errors import AuthlibBaseError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.features.oauth.providers import Provider

with warnings.catch_warnings():
    # authlib announces its move to httpx2; its client keeps working on httpx meanwhile.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

# Only public-key signatures: a MAC (HS256) would let anyone who knows the client secret, or who
# feeds the public key as a MAC key, forge tokens; "none" is no signature at all.
SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
METADATA_TTL = 3600
JWKS_REFRESH_MIN = 60
CLOCK_LEEWAY = 120


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every call to a provider, made once: an httpx client builds its own
    otherwise, reading the whole CA bundle (~35 ms of CPU) for each of the 2-4 calls of a sign-in."""
    return httpx.create_ssl_context()


class ProviderError(Exception):
    """The provider answered something we must not accept (or did not answer)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # a short machine-readable word for the audit log


@dataclass
class Metadata:
    """The endpoints and identity of one provider (from discovery, or fixed)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    iss_parameter_supported: bool


class ProviderClient:
    """One provider's protocol operations, with its discovery document and JWKS cached."""

    def __init__(self, provider: Provider, timeout: float) -> None:
        self.provider = provider
        self.timeout = timeout
        self._metadata: Metadata | None = None
        self._metadata_at = 0.0
        self._jwks: KeySet | None = None
        self._jwks_at = 0.0

    def _oauth(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.provider.client_id,
            client_secret=self.provider.secret(),
            scope=" ".join(self.provider.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=self.provider.token_auth,
            timeout=self.timeout,
            verify=tls_context(),
        )

    async def _get_json(self, url: str, what: str, token: str | None = None) -> Any:
        headers = {"accept": "application/json", "user-agent": "app-oauth"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, verify=tls_context()) as http:
                response = await http.get(url, headers=headers)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderError(f"{self.provider.label} did not answer ({what}). Try again later.", what) from error

    async def metadata(self) -> Metadata:
        """The provider's endpoints: its discovery document (cached for an hour) or the fixed ones."""
        provider = self.provider
        if not provider.is_oidc:
            return Metadata(
                provider.issuer, provider.authorize_url, provider.token_url, provider.userinfo_url, "", (), False
            )
        if self._metadata and time.monotonic() - self._metadata_at < METADATA_TTL:
            return self._metadata
        doc = await self._get_json(str(provider.discovery_url), "discovery")
        try:
            issuer = str(doc["issuer"])
            algorithms = tuple(
                a for a in doc.get("id_token_signing_alg_values_supported", ["RS256"]) if a in SIGNATURE_ALGORITHMS
            )
            metadata = Metadata(
                issuer=issuer,
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                userinfo_endpoint=str(doc.get("userinfo_endpoint") or ""),
                jwks_uri=str(doc["jwks_uri"]),
                algorithms=algorithms or ("RS256",),
                iss_parameter_supported=doc.get("authorization_response_iss_parameter_supported") is True,
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ProviderError(f"{provider.label}'s discovery document is incomplete.", "discovery") from error
        self._metadata, self._metadata_at = metadata, time.monotonic()
        return metadata

    async def authorization_url(self, redirect_uri: str, state: str, code_verifier: str, nonce: str | None) -> str:
        """Where to send the browser: state, PKCE S256 challenge and (OIDC) nonce included."""
        metadata = await self.metadata()
        params = dict(self.provider.authorize_params)
        if nonce:
            params["nonce"] = nonce
        async with self._oauth(redirect_uri) as oauth:
            url, _ = oauth.create_authorization_url(
                metadata.authorization_endpoint, state=state, code_verifier=code_verifier, **params
            )
        return str(url)

    async def exchange(self, redirect_uri: str, code: str, code_verifier: str) -> dict[str, Any]:
        """Trade the code (and the PKCE verifier) for tokens at the token endpoint."""
        metadata = await self.metadata()
        try:
            async with self._oauth(redirect_uri) as oauth:
                token = await oauth.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    headers={"accept": "application/json"},
                )
        except (AuthlibBaseError, httpx.HTTPError, ValueError, RecursionError) as error:
            raise ProviderError(
                f"{self.provider.label} did not accept the sign-in. Start again.", "token-exchange"
            ) from error
        if not isinstance(token, dict) or not token.get("access_token"):
            raise ProviderError(f"{self.provider.label} did not return an access token.", "token-exchange")
        return dict(token)

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """New tokens for a refresh token (the provider may rotate the refresh token too)."""
        metadata = await self.metadata()
        try:
            async with self._oauth("") as oauth:
                token = await oauth.refresh_token(metadata.token_endpoint, refresh_token=refresh_token)
        except (AuthlibBaseError, httpx.HTTPError, ValueError, RecursionError) as error:
            raise ProviderError(f"{self.provider.label} did not renew the access.", "refresh") from error
        if not isinstance(token, dict) or not token.get("access_token"):
            raise ProviderError(f"{self.provider.label} did not renew the access.", "refresh")
        return dict(token)

    async def _keys(self, refresh: bool) -> KeySet:
        metadata = await self.metadata()
        stale = time.monotonic() - self._jwks_at > METADATA_TTL
        if self._jwks is None or stale or (refresh and time.monotonic() - self._jwks_at > JWKS_REFRESH_MIN):
            data = await self._get_json(metadata.jwks_uri, "jwks")
            try:
                self._jwks = KeySet.import_key_set(data)
            except (JoseError, ValueError, TypeError, KeyError) as error:
                raise ProviderError(f"{self.provider.label}'s signing keys are unreadable.", "jwks") from error
            self._jwks_at = time.monotonic()
        return self._jwks

    def expected_issuer(self, metadata: Metadata, claims: dict[str, Any]) -> str:
        """The issuer an ID token must name (Microsoft's multi-tenant one has the tenant filled in)."""
        if self.provider.tenant_issuer and "{tenantid}" in metadata.issuer:
            tenant = claims.get("tid")
            if not isinstance(tenant, str) or not tenant:
                return metadata.issuer
            return metadata.issuer.replace("{tenantid}", tenant)
        return metadata.issuer

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of a valid ID token: signed by the provider's keys with an allowed algorithm,
        for this client, from this issuer, unexpired, carrying our nonce. ProviderError otherwise."""
        metadata = await self.metadata()
        label = self.provider.label
        token = None
        for refresh in (False, True):  # a new signing key: fetch the JWKS again, once
            keys = await self._keys(refresh)
            try:
                token = jwt.decode(id_token, keys, algorithms=list(metadata.algorithms))
                break
            except JoseError as error:
                if refresh:
                    raise ProviderError(f"{label}'s ID token is not validly signed.", "id-token-signature") from error
            except (ValueError, TypeError) as error:
                raise ProviderError(f"{label}'s ID token is malformed.", "id-token-malformed") from error
        assert token is not None
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY,
            iss={"essential": True, "value": self.expected_issuer(metadata, claims)},
            aud={"essential": True, "value": self.provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            claim = getattr(error, "claim", "") or "claims"
            raise ProviderError(
                f"{label}'s ID token is not for this sign-in ({claim}).", f"id-token-{claim}"
            ) from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise ProviderError(f"{label}'s ID token is not for this sign-in (azp).", "id-token-azp")
        if not isinstance(claims.get("nonce"), str) or not _same(claims["nonce"], nonce):
            raise ProviderError(f"{label}'s ID token does not belong to this sign-in (nonce).", "id-token-nonce")
        return claims

    async def userinfo(self, access_token: str, url: str | None = None) -> Any:
        """A JSON document from the provider's user API, with the access token."""
        metadata = await self.metadata()
        target = url or metadata.userinfo_endpoint
        return await self._get_json(target, "userinfo", token=access_token) if target else {}


def _same(left: str, right: str) -> bool:
    import hmac

    return hmac.compare_digest(left.encode(), right.encode())
