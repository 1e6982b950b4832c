"""Building tokens the way an attacker would: any header, any claims, any key, or no signature at all."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def at(offset: int) -> int:
    """A NumericDate `offset` seconds from now."""
    return int(time.time()) + offset


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand, e.g. `alg: none` with an empty signature."""
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """HS256 with any bytes as the secret, which PyJWT refuses to do with a public key."""
    signing_input = unsigned(header, claims).rsplit(".", 1)[0]
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@dataclass
class Forge:
    """Mints tokens with the app's real signing key (or another one), varying one thing at a time."""

    kid: str
    key: ed25519.Ed25519PrivateKey
    issuer: str
    audience: str
    subject: str
    attacker: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    def claims(self, **changes: Any) -> dict[str, Any]:
        """Valid claims with `changes` applied; a change to None removes the claim."""
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "sub": self.subject, "iat": now, "exp": now + 600}
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(
        self,
        claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        key: ed25519.Ed25519PrivateKey | None = None,
    ) -> str:
        return jwt.encode(
            self.claims() if claims is None else claims,
            key or self.key,
            algorithm="EdDSA",
            headers={"kid": self.kid, **(headers or {})},
        )

    def header(self, **values: Any) -> dict[str, Any]:
        return {"typ": "JWT", "kid": self.kid, **values}

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_raw(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def attacker_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(self.attacker.public_key(), as_dict=True)
        return jwk


# (id, how to build the token, the reason the verifier must give). Each case is valid but for one thing.
REJECTED: list[tuple[str, Any, str]] = [
    ("alg-none", lambda f: unsigned(f.header(alg="none"), f.claims()), "algorithm not allowed"),
    ("alg-None", lambda f: unsigned(f.header(alg="None"), f.claims()), "algorithm not allowed"),
    ("hs256-public-pem", lambda f: hs256(f.header(alg="HS256"), f.claims(), f.public_pem), "algorithm not allowed"),
    ("hs256-public-raw", lambda f: hs256(f.header(alg="HS256"), f.claims(), f.public_raw), "algorithm not allowed"),
    ("unknown-kid", lambda f: f.sign(headers={"kid": "attacker-kid"}, key=f.attacker), "unknown kid"),
    ("no-kid", lambda f: unsigned({"alg": "EdDSA", "typ": "JWT"}, f.claims(), b"x" * 64), "no kid"),
    ("forged-signature", lambda f: f.sign(key=f.attacker), "bad signature"),
    ("jku", lambda f: f.sign(headers={"jku": "http://127.0.0.1:9/jwks.json"}), "header not allowed: jku"),
    ("x5u", lambda f: f.sign(headers={"x5u": "http://127.0.0.1:9/cert.pem"}), "header not allowed: x5u"),
    ("jwk-embedded", lambda f: f.sign(headers={"jwk": f.attacker_jwk}, key=f.attacker), "header not allowed: jwk"),
    ("jwk-with-real-key", lambda f: f.sign(headers={"jwk": f.attacker_jwk}), "header not allowed: jwk"),
    ("crit-unknown", lambda f: f.sign(headers={"crit": ["urn:x:pin"], "urn:x:pin": 1}), "header not allowed: crit"),
    ("expired", lambda f: f.sign(f.claims(iat=at(-4000), exp=at(-3600))), "expired"),
    ("nbf-future", lambda f: f.sign(f.claims(nbf=at(3600))), "not yet valid"),
    ("iat-future", lambda f: f.sign(f.claims(iat=at(3600), exp=at(7200))), "not yet valid"),
    ("no-exp", lambda f: f.sign(f.claims(exp=None)), '"exp"'),
    ("wrong-aud", lambda f: f.sign(f.claims(aud="billing")), "wrong audience"),
    ("aud-longer", lambda f: f.sign(f.claims(aud=f.audience + "2")), "wrong audience"),
    ("aud-prefix", lambda f: f.sign(f.claims(aud=f.audience[:-1])), "wrong audience"),
    ("aud-list", lambda f: f.sign(f.claims(aud=[f.audience, "billing"])), "wrong audience"),
    ("no-aud", lambda f: f.sign(f.claims(aud=None)), '"aud"'),
    ("wrong-iss", lambda f: f.sign(f.claims(iss="https://evil.example")), "wrong issuer"),
    ("iss-prefix", lambda f: f.sign(f.claims(iss=f.issuer[:-1])), "wrong issuer"),
    ("iss-longer", lambda f: f.sign(f.claims(iss=f.issuer + ".evil.example")), "wrong issuer"),
    ("iss-slash", lambda f: f.sign(f.claims(iss=f.issuer + "/")), "wrong issuer"),
    ("no-sub", lambda f: f.sign(f.claims(sub=None)), '"sub"'),
]
