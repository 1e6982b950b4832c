"""Random tokens, their stored hashes, and HMAC signatures keyed by the app secret.

Tokens carry 256 bits from `secrets`; only their SHA-256 is stored, so a database leak gives
no usable session or link. Signatures use keys derived per purpose from SECRET_KEY and verify
with SECRET_KEY_FALLBACKS too, so the secret can be rotated without signing everyone out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token() -> str:
    """A URL-safe token with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The value stored for a token: hex SHA-256 (tokens are random, so no salt or KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Signer:
    """Signs and verifies short strings with a key derived from the app secret for one purpose."""

    def __init__(self, secret: str, purpose: str, fallbacks: list[str] | None = None) -> None:
        self._keys = [self._derive(s, purpose) for s in [secret, *(fallbacks or [])]]

    @staticmethod
    def _derive(secret: str, purpose: str) -> bytes:
        return hmac.new(secret.encode(), f"app:{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, value: str) -> str:
        """`value.signature`, signature in URL-safe base64."""
        mac = hmac.new(self._keys[0], value.encode(), hashlib.sha256).digest()
        return f"{value}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def unsign(self, signed: str) -> str | None:
        """The value if the signature matches any current or fallback key, else None."""
        value, _, signature = signed.rpartition(".")
        if not value:
            return None
        for key in self._keys:
            mac = hmac.new(key, value.encode(), hashlib.sha256).digest()
            expected = base64.urlsafe_b64encode(mac).decode().rstrip("=")
            if hmac.compare_digest(expected, signature):
                return value
        return None
