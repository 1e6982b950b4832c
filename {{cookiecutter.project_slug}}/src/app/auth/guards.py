"""Route guards of the HTML pages: sensitive forms need a fresh session that no feature refuses.

The services check freshness too (the JSON API answers 403 SESSION_NOT_FRESH); on a page the
guard runs first, so that a stale session is sent to re-authenticate with its form kept (see
app.core.resume) and comes back to `back`, where the page puts the kept fields into the form.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from app.auth.sessions import Principal
from app.core.errors import SessionNotFresh, Unauthorized
from app.core.resume import FieldValue, FormStash

RESUME_PARAM = "resume"


def fresh_session(back: str) -> Guard:
    """A guard for a sensitive form on the page at `back` (a local path without a query)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal | None = connection.scope.get("user")
        if principal is None:
            raise Unauthorized()
        connection.app.state.auth.check_sensitive(principal)  # refused however fresh (AuthKit.refuse_sensitive_when)
        if principal.is_fresh(connection.app.state.settings.auth.fresh_age):
            return
        resume_to = back
        if isinstance(connection, Request) and connection.method == "POST":
            form = await connection.form()
            fields: dict[str, FieldValue] = {}
            for name in form:
                values = [value for value in form.getall(name) if isinstance(value, str)]
                if values:
                    fields[name] = values[0] if len(values) == 1 else values
            stash: FormStash = connection.app.state.form_stash
            handle = await stash.put(str(principal.session_id), connection.scope["path"], fields)
            resume_to = f"{back}?{RESUME_PARAM}={handle}"
        raise SessionNotFresh(resume_to=resume_to)

    return guard
