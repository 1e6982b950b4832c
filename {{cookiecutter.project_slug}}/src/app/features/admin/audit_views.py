"""The audit log's pages: /admin/audit (filtered, newest first, a page at a time) and its download.

The download is a plain GET link that a browser saves (Content-Disposition: attachment): the
filtered rows, oldest first, as CSV or JSONL, streamed a batch at a time as they are read, so
its size is bounded by nothing but the log. Who downloaded which part is recorded before it
starts (`admin.audit_exported`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.response import Stream, Template

from app.auth import DB, request_meta
from app.core.db import utcnow
from app.core.errors import AppError
from app.core.ui import form_error, page
from app.features.admin.audit_log import (
    FILTER_FIELDS,
    FORMATS,
    AuditPage,
    audit_page,
    known_events,
    parse_filter,
    start_export,
)
from app.features.admin.service import Actor, Admin
from app.features.admin.settings import AdminSettings
from app.features.admin.web import console, other_methods, provide_actor, provide_admin

AUDIT_PATH = "/admin/audit"
EXPORT_PATH = AUDIT_PATH + "/export"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
Service = NamedDependency[Admin]
Acting = NamedDependency[Actor]


def _typed(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The filter's fields as the query string has them ('' when absent; cut short, never echoed at length)."""
    return {name: (request.query_params.get(name) or "")[:254] for name in FILTER_FIELDS}


@get(AUDIT_PATH, **console("audit:list"))
async def audit_log_page(request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting) -> Template:
    """The log, newest first: filtered by event, actor, target, IP and dates; `after` is a page's cursor."""
    form = _typed(request)
    cursor = request.query_params.get("after") or None
    size = request.app.state.settings.feature(AdminSettings).page_size
    try:
        where = await parse_filter(db, admin.kit, form)
    except AppError as error:
        return await _page(request, db, actor, form, None, True, 400, **form_error(error))
    try:
        result = await audit_page(db, where, cursor, size)
    except AppError as error:  # a cursor this app did not make: the first page, with the message
        result = await audit_page(db, where, None, size)
        return await _page(request, db, actor, form, result, True, form_error=error.message)
    return await _page(request, db, actor, form, result, cursor is None)


async def _page(
    request: Request[Any, Any, Any],
    db: DB,
    actor: Actor,
    form: dict[str, str],
    result: AuditPage | None,
    first: bool,
    status_code: int = 200,
    **context: Any,
) -> Template:
    filters = {name: value for name, value in form.items() if value}
    older = result.next_cursor if result else None
    return page(
        request,
        "admin/audit.html",
        status_code=status_code,
        result=result,
        events=await known_events(db),
        first=first,
        newest_link=f"{AUDIT_PATH}?{urlencode(filters)}",
        older_link=f"{AUDIT_PATH}?{urlencode(filters | {'after': older})}" if older else None,
        export_links={fmt: f"{EXPORT_PATH}?{urlencode({'format': fmt} | filters)}" for fmt in FORMATS}
        if actor.can("audit:export")
        else {},
        form=form,
        **context,
    )


@get(EXPORT_PATH, **console("audit:export"))
async def audit_log_export(request: Request[Any, Any, Any], db: DB, admin: Service, actor: Acting) -> Stream:
    """The filtered log as a file, oldest first: `format` csv or jsonl (the default); a bad filter is a 400."""
    fmt = request.query_params.get("format") or "jsonl"
    where = await parse_filter(db, admin.kit, _typed(request))
    sessions = request.app.state.db.sessions
    chunks = await start_export(db, admin.kit, request_meta(request), actor, sessions, where, fmt)
    filename = f"audit-log-{utcnow():%Y-%m-%d}.{fmt}"
    return Stream(
        chunks, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


HANDLERS = [audit_log_page, audit_log_export]

AUDIT_VIEWS = Router(
    "/",
    route_handlers=[*other_methods(HANDLERS), *HANDLERS],
    dependencies={
        "admin": Provide(provide_admin, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
    },
    include_in_schema=False,
)
