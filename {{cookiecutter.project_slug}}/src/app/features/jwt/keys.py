"""Key pairs for signing JWTs: generate one, publish its public half, seal and unseal its private half."""

from __future__ import annotations

import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from app.core.crypto import SecretBox
from app.features.jwt.models import JwtKey

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
# The members of a public JWK (RFC 7518 section 6, RFC 8037): a private member is never copied.
PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "n", "e")
SEAL_PURPOSE = "jwt-signing-key"


def generate(algorithm: str) -> PrivateKey:
    """A new private key for `algorithm` (EdDSA: Ed25519, ES256: P-256, RS256: RSA 3072)."""
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValueError(f"unsupported algorithm {algorithm!r}")


def public_jwk(private_key: PrivateKey, kid: str, algorithm: str) -> dict[str, Any]:
    """The JWK of the public half only, as the JWKS publishes it."""
    public = private_key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    public_members = {name: jwk[name] for name in PUBLIC_MEMBERS if name in jwk}
    return {**public_members, "kid": kid, "alg": algorithm, "use": "sig"}


def new_key(algorithm: str, box: SecretBox) -> tuple[JwtKey, PrivateKey]:
    """A fresh key row (private half sealed, bound to its kid) and the private key itself."""
    kid = secrets.token_urlsafe(16)
    private_key = generate(algorithm)
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    row = JwtKey(
        id=kid,
        algorithm=algorithm,
        public_jwk=public_jwk(private_key, kid, algorithm),
        private_key=box.seal(der, context=kid),
    )
    return row, private_key


def unseal(row: JwtKey, box: SecretBox) -> PrivateKey:
    """The private key of a row; `DecryptionError` when the secret that sealed it is gone."""
    if row.private_key is None:
        raise ValueError(f"key {row.id} is retired and has no private half")
    key = serialization.load_der_private_key(box.unseal(row.private_key, context=row.id), password=None)
    if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise ValueError(f"key {row.id} holds an unexpected key type")
    return key
