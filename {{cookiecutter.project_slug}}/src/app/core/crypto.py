"""Random tokens, their stored hashes, HMAC signatures and encryption keyed by the app secret.

Tokens carry 256 bits from `secrets`; only their SHA-256 is stored, so a database leak gives
no usable session or link. Signatures and encryption use keys derived per purpose from
SECRET_KEY and still work with SECRET_KEY_FALLBACKS, so the secret can be rotated without
signing everyone out or losing what was encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_MAX = 128  # every token the app issues is shorter; a longer one is refused before any lookup


def usable_token(token: str | None) -> bool:
    """Whether a token (from a link, a cookie, a form) is worth looking up: present, and no longer
    than any the app issues, so that no hashing or query is spent on junk."""
    return bool(token) and len(token or "") <= TOKEN_MAX


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


class DecryptionError(Exception):
    """Sealed data that neither SECRET_KEY nor a fallback can open (or that was tampered with)."""


class SecretBox:
    """Encrypts secrets the app must read back (signing keys, authenticator seeds, provider tokens) with AES-256-GCM.

    Keys are derived per purpose from SECRET_KEY with HKDF-SHA256; SECRET_KEY_FALLBACKS still
    decrypt, so the secret can be rotated. A sealed value names the key that sealed it, and its
    `context` (e.g. the owning row's id) is authenticated: copied to another row, it fails to open.
    """

    VERSION = "v1"

    def __init__(self, secret: str, purpose: str, fallbacks: list[str] | None = None) -> None:
        self._keys: dict[str, AESGCM] = {}
        self._current = ""
        for value in [secret, *(fallbacks or [])]:
            key_id = base64.urlsafe_b64encode(_hkdf(value, f"app:seal-id:{purpose}", 6)).decode()
            self._keys.setdefault(key_id, AESGCM(_hkdf(value, f"app:seal:{purpose}", 32)))
            self._current = self._current or key_id

    def seal(self, plaintext: bytes, context: str = "") -> str:
        """`v1.<key id>.<nonce and ciphertext>`, URL-safe base64, with a fresh random nonce."""
        nonce = secrets.token_bytes(12)
        sealed = self._keys[self._current].encrypt(nonce, plaintext, context.encode())
        return f"{self.VERSION}.{self._current}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, sealed: str, context: str = "") -> bytes:
        """The plaintext; `DecryptionError` if no known key opens it or it was altered."""
        version, _, rest = sealed.partition(".")
        key_id, _, payload = rest.partition(".")
        key = self._keys.get(key_id)
        if version != self.VERSION or key is None:
            raise DecryptionError("sealed with an unknown key")
        try:
            data = base64.urlsafe_b64decode(payload)
            return key.decrypt(data[:12], data[12:], context.encode())
        except (InvalidTag, ValueError):
            raise DecryptionError("sealed data does not authenticate") from None

    def is_current(self, sealed: str) -> bool:
        """True if sealed with SECRET_KEY itself (not a fallback): nothing to re-seal after a rotation."""
        return sealed.split(".", 2)[1:2] == [self._current]


def _hkdf(secret: str, info: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info.encode()).derive(secret.encode())
