"""Authorization requests between the start and the callback: stored hashed, used once, bound to a browser."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.crypto import SecretBox, hash_token, new_token, usable_token
from app.core.db import utcnow
from app.features.oauth.models import OAuthState

TOKEN_LENGTH = 43  # new_token(): 32 random bytes, URL-safe base64


def browser_binding(current: str | None) -> str:
    """The browser's binding value: the one its cookie holds, or a new one."""
    if current and len(current) == TOKEN_LENGTH and current.replace("-", "").replace("_", "").isalnum():
        return current
    return new_token()


def same_browser(browser: str | None, row: OAuthState) -> bool:
    """Whether the callback comes from the browser that started the request."""
    return bool(browser) and hmac.compare_digest(hash_token(browser or ""), row.browser_hash)


async def save(
    db: AsyncSession, box: SecretBox, ttl: int, state: str, browser: str, verifier: str, **fields: Any
) -> None:
    """Keep a started request (its state hashed, its PKCE verifier sealed), dropping expired ones."""
    await db.exec(delete(OAuthState).where(OAuthState.expires_at <= utcnow()))  # type: ignore[arg-type]
    row = OAuthState(
        state_hash=hash_token(state),
        browser_hash=hash_token(browser),
        code_verifier="",
        expires_at=utcnow() + timedelta(seconds=ttl),
        **fields,
    )
    row.code_verifier = box.seal(verifier.encode(), str(row.id))
    db.add(row)
    await db.commit()


async def take(db: AsyncSession, state: str) -> OAuthState | None:
    """Use up the request for this state: DELETE ... RETURNING, so only one callback ever gets it."""
    if not usable_token(state):
        return None
    table = OAuthState.__table__  # type: ignore[attr-defined]
    query = delete(OAuthState).where(table.c.state_hash == hash_token(state)).returning(*table.c)
    row = (await db.exec(query)).first()
    await db.commit()
    return OAuthState(**row._mapping) if row is not None else None


def verifier(box: SecretBox, row: OAuthState) -> str:
    """The PKCE verifier of a request."""
    return box.unseal(row.code_verifier, str(row.id)).decode()
