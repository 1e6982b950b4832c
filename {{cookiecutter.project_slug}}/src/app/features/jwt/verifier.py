"""Verify this app's JWTs in another Python service. Standalone: copy this file, it needs only PyJWT[crypto].

    from verifier import InvalidToken, JWKSVerifier

    verifier = JWKSVerifier(
        "https://auth.example.com/api/auth/jwks",
        issuer="https://auth.example.com",  # JWT_ISSUER (default: the app's APP_BASE_URL)
        audience="https://auth.example.com",  # JWT_AUDIENCE (default: the app's APP_BASE_URL)
    )
    claims = verifier.verify(token)  # raises InvalidToken; in async code: await verifier.averify(token)
    user_id = claims["sub"]

The JWKS is fetched on first use, cached for `cache_ttl` seconds, and fetched again at once for an
unknown `kid`, but at most once per `min_refresh_interval`, so forged kids cannot flood the server.
Only the listed asymmetric algorithms are accepted, each only with a key published for it; `jku`,
`x5u`, `jwk`, `x5c` and any `crit` header are refused, and `iss` and `aud` must match exactly.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import jwt

logger = logging.getLogger(__name__)

ASYMMETRIC = frozenset({"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
KEY_TYPES = frozenset({"OKP", "EC", "RSA"})
# Headers that would let the token choose its own key, or demand rules we do not implement.
REFUSED_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")
MAX_TOKEN_LENGTH = 8192
MAX_JWKS_BYTES = 256 * 1024


class InvalidToken(Exception):
    """The token is refused; the message says why (safe to log, not meant for the client)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # a redirect could lead to someone else's keys


class JWKSVerifier:
    """Checks signature, `kid`, algorithm, `exp`/`nbf`/`iat`, `iss` and `aud` against the app's JWKS."""

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        algorithms: Iterable[str] = ("EdDSA",),
        cache_ttl: float = 300.0,
        min_refresh_interval: float = 10.0,
        leeway: float = 30.0,
        timeout: float = 5.0,
        allow_http: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parts = urlsplit(jwks_url)
        local = parts.hostname == "localhost" or _is_loopback(parts.hostname or "")
        if parts.scheme != "https" and not (parts.scheme == "http" and (local or allow_http)):
            raise ValueError("the JWKS URL must use https (http only for localhost, or with allow_http=True)")
        self.algorithms = frozenset(algorithms)
        if not self.algorithms or not self.algorithms <= ASYMMETRIC:
            raise ValueError(f"algorithms must be a non-empty subset of {sorted(ASYMMETRIC)}")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.cache_ttl = cache_ttl
        self.min_refresh_interval = min_refresh_interval
        self.leeway = leeway
        self.timeout = timeout
        self.clock = clock  # seconds, for the cache and the refresh interval (tests pass a stopped one)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(_NoRedirects())

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is valid for this service; raises `InvalidToken` otherwise."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed token")
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidToken("algorithm not allowed")
        for name in REFUSED_HEADERS:
            if name in header:
                raise InvalidToken(f"header not allowed: {name}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("no kid")
        key = self._key(kid)
        if key is None:
            raise InvalidToken("unknown kid")
        if key.algorithm_name != alg:
            raise InvalidToken("algorithm does not match the key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"], "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("not yet valid") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("bad signature") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"invalid token: {error}") from None
        # Exact comparisons once more, whatever a library version does with containers.
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        if claims.get("aud") != self.audience:
            raise InvalidToken("wrong audience")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("no subject")
        return claims

    async def averify(self, token: str) -> dict[str, Any]:
        """`verify` off the event loop (a JWKS fetch is blocking I/O)."""
        return await asyncio.to_thread(self.verify, token)

    def _key(self, kid: str) -> jwt.PyJWK | None:
        now = self.clock()
        key = self._keys.get(kid)
        if key is not None and now - self._fetched_at < self.cache_ttl:
            return key
        with self._lock:
            now = self.clock()
            stale = now - self._fetched_at >= self.cache_ttl
            if (stale or kid not in self._keys) and now - self._attempted_at >= self.min_refresh_interval:
                self._attempted_at = now
                try:
                    self._keys = self._fetch()
                    self._fetched_at = self.clock()
                except (OSError, ValueError) as error:
                    # Keep the last good keys: an outage of the auth server should not stop this service.
                    logger.warning("JWKS fetch from %s failed: %s", self.jwks_url, error)
            return self._keys.get(kid)

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        request = urllib.request.Request(self.jwks_url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked
        with self._opener.open(request, timeout=self.timeout) as response:
            if response.status != 200:
                raise ValueError(f"JWKS answered {response.status}")
            body = response.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError("JWKS too large")
        document = json.loads(body)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("JWKS has no key list")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            kid, alg, kty = entry.get("kid"), entry.get("alg"), entry.get("kty")
            if not (isinstance(kid, str) and isinstance(alg, str) and isinstance(kty, str)):
                continue
            if alg not in self.algorithms or kty not in KEY_TYPES:
                continue
            try:
                keys[kid] = jwt.PyJWK(entry, algorithm=alg)
            except jwt.PyJWTError:
                continue
        return keys


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, read here rather than by PyJWT so that every header is seen before any is trusted."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed token")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken("malformed token") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return header


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
