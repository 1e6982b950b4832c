"""JSON API of API keys, with the paths of Better Auth's api-key plugin, and `GET /api/me` to try a key.

Managing keys needs the owner's signed-in session (an API key cannot create or revoke keys),
and creating or revoking a fresh one (403 SESSION_NOT_FRESH otherwise). The owner is always the
session's user: an owner in the body (`userId` ...) is ignored, never trusted.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter

from app.auth import DB, CurrentCaller, CurrentUser, iso, request_meta, require_scope
from app.core.errors import SessionNotFresh
from app.core.openapi import raises
from app.features.api_keys.models import ApiKey
from app.features.api_keys.service import ApiKeyNotFound, ApiKeys
from app.features.api_keys.web import provide_api_keys

Text = Annotated[str, msgspec.Meta(max_length=4096)]
Keys = NamedDependency[ApiKeys]
NO_STORE = {"cache-control": "no-store"}


class CreateApiKey(msgspec.Struct):
    """Unknown fields (`userId`, `prefix`, `permissions` ...) are dropped by the decoder."""

    name: Text = ""
    expires_in: int | None = msgspec.field(default=None, name="expiresIn")
    scopes: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=32)] = []


class DeleteApiKey(msgspec.Struct):
    key_id: Text = msgspec.field(name="keyId")


def key_json(row: ApiKey) -> dict[str, Any]:
    """A key as Better Auth's client lists it (never its hash); `lastRequest` is when it was last used."""
    return {
        "id": str(row.id),
        "name": row.name,
        "start": row.start,
        "prefix": row.prefix,
        "userId": str(row.user_id),
        "enabled": row.revoked_at is None,
        "scopes": row.scopes,
        "expiresAt": iso(row.expires_at) if row.expires_at else None,
        "lastRequest": iso(row.last_used_at) if row.last_used_at else None,
        "createdAt": iso(row.created_at),
    }


def _key_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiKeyNotFound() from None


@post("/api/auth/api-key/create", status_code=200)
@raises(SessionNotFresh)
async def create_api_key(
    request: Request[Any, Any, Any], data: JSONBody[CreateApiKey], db: DB, user: CurrentUser, api_keys: Keys
) -> dict[str, Any]:
    """Create a key for the signed-in user; the answer is the only time the full key is shown."""
    row, key = await api_keys.create(db, request_meta(request), user, data.name, data.scopes, data.expires_in)
    return {**key_json(row), "key": key}


@get("/api/auth/api-key/list")
async def list_api_keys(db: DB, user: CurrentUser, api_keys: Keys) -> dict[str, Any]:
    """The signed-in user's keys that are not revoked, newest first."""
    rows = await api_keys.owned(db, user.user_id)
    return {"apiKeys": [key_json(row) for row in rows], "total": len(rows)}


@get("/api/auth/api-key/get")
@raises(ApiKeyNotFound)
async def get_api_key(
    db: DB, user: CurrentUser, api_keys: Keys, key_id: Annotated[str, QueryParameter(name="id", max_length=64)] = ""
) -> dict[str, Any]:
    """One of the signed-in user's keys, by `?id=`."""
    return key_json(await api_keys.get(db, user.user_id, _key_id(key_id)))


@post("/api/auth/api-key/delete", status_code=200)
@raises(SessionNotFresh, ApiKeyNotFound)
async def delete_api_key(
    request: Request[Any, Any, Any], data: JSONBody[DeleteApiKey], db: DB, user: CurrentUser, api_keys: Keys
) -> dict[str, bool]:
    """Revoke one of the signed-in user's keys; it is refused from the next request on."""
    await api_keys.revoke(db, request_meta(request), user, _key_id(data.key_id))
    return {"success": True}


@get("/api/me", guards=[require_scope("read")])
async def me(caller: CurrentCaller) -> Response[dict[str, Any]]:
    """Who is calling: a route API keys may use (scope `read`), the model for your own API."""
    body = {
        "user": {"id": str(caller.user_id), "name": caller.name, "email": caller.email},
        "via": caller.via,
        "scopes": sorted(caller.scopes) if caller.scopes is not None else None,
    }
    return Response(body, headers=NO_STORE)


API = Router(
    "/",
    route_handlers=[create_api_key, list_api_keys, get_api_key, delete_api_key, me],
    dependencies={"api_keys": Provide(provide_api_keys, sync_to_thread=False)},
    tags=["api-key"],
)
