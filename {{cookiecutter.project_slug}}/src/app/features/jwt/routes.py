"""JSON API of the JWT feature, with Better Auth's paths: a token for the session, and the JWKS."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from app.auth import DB, CurrentUser, request_meta
from app.features.jwt.service import service_for


@get("/api/auth/token", tags=["jwt"])
async def get_token(request: Request[Any, Any, Any], db: DB, user: CurrentUser) -> dict[str, str]:
    """A short-lived JWT for the signed-in user, for calling other services; 401 without a session."""
    issued = await service_for(request.app).issue(db, request_meta(request), user.user_id)
    return {"token": issued.token}


@get("/api/auth/jwks", tags=["jwt"])
async def get_jwks(request: Request[Any, Any, Any], db: DB) -> dict[str, list[dict[str, Any]]]:
    """The public keys that verify this app's JWTs (never a private part)."""
    return await service_for(request.app).jwks(db, request_meta(request))


API_HANDLERS = [get_token, get_jwks]
