"""A software authenticator: real WebAuthn registration and assertion responses, made with `cryptography`.

It plays the part of a security key or a phone (ES256 keys, "none" attestation), so the tests run
the server's real py_webauthn checks. Every field a browser or an attacker controls can be set:
origin, RP id, flags, sign count, user handle.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.encode_cbor import encode_cbor

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


@dataclass
class Credential:
    """One passkey held by the authenticator."""

    id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    rp_id: str
    sign_count: int = 0

    @property
    def b64(self) -> str:
        return bytes_to_base64url(self.id)


@dataclass
class SoftAuthenticator:
    """Answers `navigator.credentials.create()` / `.get()` options as a browser would send them on."""

    origin: str
    rp_id: str
    aaguid: bytes = bytes(16)
    counter_step: int = 1  # 0: an authenticator without a counter (always 0), as synced passkeys do
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        flags: int = UP | UV,
        credential_id: bytes | None = None,
        challenge: str | None = None,
        public_key: bytes | None = None,
    ) -> dict[str, Any]:
        """A registration response (attestation "none") for creation options from the server.

        `public_key` replaces the COSE key of the credential (to send one no server can use)."""
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = public_key or encode_cbor(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )
        cred_id = credential_id or secrets.token_bytes(32)
        credential = Credential(cred_id, key, base64url_to_bytes(options["user"]["id"]), rp_id or self.rp_id)
        auth_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([flags | AT])
            + struct.pack(">I", 0)
            + self.aaguid
            + struct.pack(">H", len(cred_id))
            + cred_id
            + cose
        )
        self.credentials.append(credential)
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", challenge or options["challenge"], origin)
        return {
            "id": credential.b64,
            "rawId": credential.b64,
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["internal", "hybrid"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        flags: int = UP | UV,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
        challenge: str | None = None,
    ) -> dict[str, Any]:
        """An assertion for request options from the server, by the given (default: last) credential."""
        cred = credential or self.credentials[-1]
        if sign_count is None:
            cred.sign_count += self.counter_step
            sign_count = cred.sign_count
        auth_data = (
            hashlib.sha256((rp_id or cred.rp_id).encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        )
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signature = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": cred.b64,
            "rawId": cred.b64,
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": bytes_to_base64url(cred.user_handle if user_handle is None else user_handle),
            },
        }
