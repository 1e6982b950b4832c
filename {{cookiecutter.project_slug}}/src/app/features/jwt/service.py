"""JWTs for the signed-in user, the JWKS that verifies them, and the rotation of the signing keys.

Rotation is one transaction: the signing key retires (its private half is erased, its public
half stays in the JWKS for JWT_GRACE_PERIOD), the key published at the previous rotation starts
signing, and a new key is published for the next one. Verifiers that refreshed their JWKS at
any time since the last rotation therefore already know the new signing key.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import jwt
from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import AuthKit
from app.core.crypto import DecryptionError, SecretBox
from app.core.db import utcnow
from app.core.events import RequestMeta
from app.features.base import provider
from app.features.jwt.keys import SEAL_PURPOSE, PrivateKey, new_key, unseal
from app.features.jwt.models import JwtKey
from app.features.jwt.settings import JwtSettings

TOKEN_ISSUED = "jwt.token_issued"  # noqa: S105 - an event name, not a secret
KEY_ROTATED = "jwt.key_rotated"


@dataclass(frozen=True)
class IssuedToken:
    """A signed JWT and what the audit log records about it."""

    token: str
    kid: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class Rotation:
    """The outcome of a rotation: which key signs now, which one is published next, which retired."""

    signing: str
    published: str
    retired: list[str]
    reason: str


class JwtService:
    """One per app (`service_for`); keeps this process's unsealed private keys by kid."""

    def __init__(self, auth: AuthKit, settings: JwtSettings) -> None:
        self.auth = auth
        self.settings = settings
        self.issuer = self.settings.issuer or auth.settings.app.base_url
        self.audience = self.settings.audience or auth.settings.app.base_url
        keys = auth.settings.secrets
        self.box = SecretBox(keys.secret_key, SEAL_PURPOSE, keys.secret_key_fallbacks)
        self._unsealed: dict[str, PrivateKey] = {}

    async def issue(self, db: AsyncSession, meta: RequestMeta, user_id: uuid.UUID) -> IssuedToken:
        """A JWT for `user_id`: iss, aud, sub, iat, exp (JWT_TTL later) and jti; nothing else about the user."""
        key, private_key = await self._signing_key(db, meta)
        issued_at = int(time.time())
        expires_at = issued_at + self.settings.ttl
        jti = secrets.token_urlsafe(16)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "iat": issued_at,
            "exp": expires_at,
            "jti": jti,
        }
        token = jwt.encode(claims, private_key, algorithm=key.algorithm, headers={"kid": key.id})
        expires = datetime.fromtimestamp(expires_at, UTC)
        await self.auth.record(
            db,
            TOKEN_ISSUED,
            meta,
            actor=user_id,
            target_type="user",
            target_id=user_id,
            kid=key.id,
            jti=jti,
            expires_at=expires.isoformat(),
        )
        await db.commit()
        return IssuedToken(token, key.id, jti, expires)

    async def jwks(self, db: AsyncSession, meta: RequestMeta) -> dict[str, list[dict[str, Any]]]:
        """The public JWK of every published key; the first call on an empty table creates the keys."""
        keys = await self.published(db)
        if not keys:
            await self.rotate(db, meta, "first_key")
            keys = await self.published(db)
        return {"keys": [key.public_jwk for key in keys]}

    async def published(self, db: AsyncSession) -> list[JwtKey]:
        """Keys in the JWKS: signing, published next, or retired within their grace period."""
        query = (
            select(JwtKey)
            .where(or_(col(JwtKey.expires_at).is_(None), col(JwtKey.expires_at) > utcnow()))
            .order_by(col(JwtKey.created_at))
        )
        return list((await db.exec(query)).all())

    async def all_keys(self, db: AsyncSession) -> list[JwtKey]:
        """Every stored key, oldest first (`app keys list`)."""
        return list((await db.exec(select(JwtKey).order_by(col(JwtKey.created_at)))).all())

    async def rotate(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        reason: str = "manual",
        *,
        revoke: bool = False,
        expected: str | None = None,
    ) -> Rotation | None:
        """Retire the signing key, promote the published one, publish a new one; commit.

        `expected`: rotate only while that kid still signs, so that when several instances find
        the key due at once, one rotates and the others use its key (None is returned to them).
        `revoke`: every older key leaves the JWKS at once, and the published key is replaced too.
        """
        now = utcnow()
        algorithm = self.settings.algorithm
        live = list((await db.exec(select(JwtKey).where(col(JwtKey.retired_at).is_(None)))).all())
        signing = [key.id for key in live if key.activated_at is not None]
        if expected is not None and expected not in signing:
            await db.rollback()
            return None
        if signing:
            until = now + timedelta(seconds=self.settings.grace_period)
            retire = (
                update(JwtKey)
                .where(col(JwtKey.id).in_(signing), col(JwtKey.retired_at).is_(None))
                .values(retired_at=now, expires_at=until, private_key=None)
            )
            if (await db.exec(retire)).rowcount != len(signing):
                await db.rollback()
                return None
        successor: JwtKey | None = None
        for key in sorted((k for k in live if k.activated_at is None), key=lambda k: k.created_at, reverse=True):
            if successor is None and not revoke and key.algorithm == algorithm and self._private(key) is not None:
                successor = key
            else:
                await db.delete(key)  # published but never used to sign: nothing depends on it
        if successor is None:
            successor = await self._new_key(algorithm)
        successor.activated_at = now
        db.add(successor)
        upcoming = await self._new_key(algorithm)
        db.add(upcoming)
        gone = col(JwtKey.retired_at).is_not(None) if revoke else col(JwtKey.expires_at) <= now
        await db.exec(delete(JwtKey).where(gone))
        await self.auth.record(
            db,
            KEY_ROTATED,
            meta,
            actor=None,
            target_type="jwt_key",
            target_id=successor.id,
            reason=reason,
            algorithm=algorithm,
            retired=signing,
            published=upcoming.id,
            revoked=revoke,
        )
        await db.commit()
        for kid in signing:
            self._unsealed.pop(kid, None)
        return Rotation(successor.id, upcoming.id, signing, reason)

    async def _signing_key(self, db: AsyncSession, meta: RequestMeta) -> tuple[JwtKey, PrivateKey]:
        """The key that signs now, rotating first when it is due, of another algorithm, or unreadable."""
        query = (
            select(JwtKey)
            .where(col(JwtKey.activated_at).is_not(None), col(JwtKey.retired_at).is_(None))
            .order_by(col(JwtKey.activated_at).desc())
            .limit(1)
        )
        for _ in range(3):
            key = (await db.exec(query)).first()
            reason = self._rotation_due(key)
            if key is not None and reason is None:
                private_key = self._private(key)
                if private_key is not None:
                    return key, private_key
                reason = "secret_key_changed"
            await self.rotate(db, meta, reason or "first_key", expected=key.id if key else None)
        raise RuntimeError("no signing key could be obtained")

    def _rotation_due(self, key: JwtKey | None) -> str | None:
        if key is None or key.activated_at is None:
            return "first_key"
        if key.algorithm != self.settings.algorithm:
            return "algorithm_changed"
        if utcnow() - key.activated_at >= timedelta(seconds=self.settings.rotation_interval):
            return "scheduled"
        return None

    def _private(self, key: JwtKey) -> PrivateKey | None:
        """The unsealed private key, or None when no current or fallback SECRET_KEY opens it."""
        private_key = self._unsealed.get(key.id)
        if private_key is None:
            try:
                private_key = unseal(key, self.box)
            except DecryptionError:
                return None
            self._unsealed[key.id] = private_key
        return private_key

    async def _new_key(self, algorithm: str) -> JwtKey:
        row, private_key = await anyio.to_thread.run_sync(new_key, algorithm, self.box)  # RSA takes a moment
        self._unsealed[row.id] = private_key
        return row


STATE_KEY = "jwt"
service_for = provider(STATE_KEY, JwtService)
