"""The API keys page: create a key (shown once, with a copy button), list them, revoke one.

Creating and revoking need a fresh session: a stale one is sent to re-authenticate first and
comes back to this page, the create form as it was typed (app.auth.guards.fresh_session). The
new key is only in the answer to the form (never stored, never in a cookie or a URL); the page
is served with `Cache-Control: no-store` like every /account page.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Template

from app.auth import DB, CurrentUser, Resumed, fresh_session, request_meta
from app.core.db import utcnow
from app.core.errors import InvalidInput
from app.core.ui import form_error, page, redirect
from app.features.api_keys.models import ApiKey
from app.features.api_keys.scopes import SCOPES
from app.features.api_keys.service import ApiKeys
from app.features.api_keys.web import provide_api_keys

PATH = "/account/api-keys"
TEMPLATE = "api_keys/api_keys.html"
NOTICES = {"api-key-revoked": "The key has been revoked: requests made with it are refused from now on."}  # UI.notices
Keys = NamedDependency[ApiKeys]
# (form value in days, label); "" never expires.
EXPIRY_CHOICES = [("", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]
DEFAULT_SCOPES = ["read"]


def _row(key: ApiKey, now: datetime) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "name": key.name,
        "start": key.start,
        "scopes": [scope for scope in key.scopes if scope in SCOPES],
        "created": key.created_at,
        "last_used": key.last_used_at,
        "expires": key.expires_at,
        "expired": key.expires_at is not None and key.expires_at <= now,
    }


async def _render(
    request: Request[Any, Any, Any],
    db: DB,
    user: CurrentUser,
    api_keys: ApiKeys,
    status_code: int = 200,
    **context: Any,
) -> Template:
    now = utcnow()
    rows = [_row(key, now) for key in await api_keys.owned(db, user.user_id)]
    defaults = {"form": {"name": "", "expires": "90", "scopes": DEFAULT_SCOPES}}
    return page(
        request,
        TEMPLATE,
        status_code=status_code,
        keys=rows,
        scopes=SCOPES,
        expiry_choices=EXPIRY_CHOICES,
        limit=api_keys.settings.max_per_user,
        **(defaults | context),
    )


@get(PATH)
async def api_keys_page(
    request: Request[Any, Any, Any], db: DB, user: CurrentUser, api_keys: Keys, resumed: Resumed
) -> Template:
    """The user's keys and the form to create one (as it was typed, back from re-authenticating)."""
    context: dict[str, Any] = {}
    if resumed is not None and resumed.action == PATH:
        form = {"name": resumed.fields.get("name", ""), "expires": resumed.fields.get("expires", "")}
        hint = "Your password is confirmed. Check the key's details and create it."
        context |= {"form": form | {"scopes": resumed.getall("scopes")}, "resumed": "create", "resume_hint": hint}
    elif resumed is not None and resumed.action.startswith(PATH + "/"):
        hint = "Your password is confirmed. Revoke the key again to finish."
        context |= {"resumed": "revoke", "resume_hint": hint}
    return await _render(request, db, user, api_keys, **context)


@post(PATH, guards=[fresh_session(PATH)])
async def create_api_key_submit(request: Request[Any, Any, Any], db: DB, user: CurrentUser, api_keys: Keys) -> Template:
    """Create a key and show it, this once."""
    raw = await request.form()
    name, expires = str(raw.get("name") or ""), str(raw.get("expires") or "")
    scopes = [s for s in raw.getall("scopes") if isinstance(s, str)] if "scopes" in raw else []
    form = {"name": name, "expires": expires, "scopes": scopes}
    try:
        if expires not in {value for value, _ in EXPIRY_CHOICES}:
            raise InvalidInput("Choose when the key expires.", field="expires")
        expires_in = int(expires) * 86400 if expires else None
        key_row, key = await api_keys.create(db, request_meta(request), user, name, scopes, expires_in)
    except InvalidInput as error:
        context = form_error(error, renamed={"expiresIn": "expires"})
        return await _render(request, db, user, api_keys, status_code=422, form=form, **context)
    return await _render(request, db, user, api_keys, new_key=key, new_key_name=key_row.name)


@post(PATH + "/{key_id:uuid}/revoke", guards=[fresh_session(PATH)])
async def revoke_api_key_submit(
    request: Request[Any, Any, Any], db: DB, user: CurrentUser, api_keys: Keys, key_id: FromPath[uuid.UUID]
) -> Any:
    """Revoke a key; the next request made with it is refused."""
    await api_keys.revoke(db, request_meta(request), user, key_id)
    return redirect(request, PATH, notice="api-key-revoked")


VIEWS = Router(
    "/",
    route_handlers=[api_keys_page, create_api_key_submit, revoke_api_key_submit],
    dependencies={"api_keys": Provide(provide_api_keys, sync_to_thread=False)},
    include_in_schema=False,
)
