"""Typed errors with stable codes, and the handlers that turn any error into a clean answer.

Services raise `AppError` subclasses; JSON routes answer `{"code", "message"}` with the
right status, HTML pages render an error page. No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
from typing import Any, ClassVar
from urllib.parse import urlencode

import redis.exceptions
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.core.db import dead_connection

logger = logging.getLogger("app.errors")

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
RETRY_AFTER_UNAVAILABLE = 5  # seconds: a restart, a failover or a burst is usually over by then


class AppError(Exception):
    """An expected failure: a stable code, a message for people, an HTTP status."""

    code: ClassVar[str] = "BAD_REQUEST"
    status_code: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class InvalidInput(AppError):
    code = "VALIDATION_ERROR"
    status_code = 400
    default_message = "Some fields are not valid."


class InvalidCredentials(AppError):
    code = "INVALID_EMAIL_OR_PASSWORD"
    status_code = 401
    default_message = "Invalid email or password."


class EmailNotVerified(AppError):
    code = "EMAIL_NOT_VERIFIED"
    status_code = 403
    default_message = "Verify your email address first: we have sent you a new link."


class InvalidToken(AppError):
    code = "INVALID_TOKEN"
    status_code = 400
    default_message = "This link is invalid or has expired."


class Unauthorized(AppError):
    code = "UNAUTHORIZED"
    status_code = 401
    default_message = "Sign in to continue."


class SessionNotFresh(AppError):
    """A sensitive action on a session that was not signed in (or re-authenticated) recently.

    On an HTML page the user is sent to re-authenticate, then back to `resume_to` (a local path
    that may carry the handle of their kept form), else to the page they were on.
    """

    code = "SESSION_NOT_FRESH"
    status_code = 403
    default_message = "Confirm your password to continue."

    def __init__(self, message: str | None = None, *, resume_to: str | None = None) -> None:
        super().__init__(message)
        self.resume_to = resume_to


class SessionNotFound(AppError):
    """Also the answer for another user's session: whether it exists is not revealed."""

    code = "SESSION_NOT_FOUND"
    status_code = 404
    default_message = "That session was not found: it may have ended already."


class AccountBanned(AppError):
    code = "BANNED_USER"
    status_code = 403
    default_message = "This account is suspended. Contact support if you think this is a mistake."


class InvalidOrigin(AppError):
    code = "INVALID_ORIGIN"
    status_code = 403
    default_message = "This request did not come from a trusted origin."


class TooManyAttempts(AppError):
    code = "TOO_MANY_REQUESTS"
    status_code = 429
    default_message = "Too many attempts. Wait a moment and try again."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    """A dependency (the database, Redis ...) is down, restarting or overloaded: try again shortly."""

    code = "SERVICE_UNAVAILABLE"
    status_code = 503
    default_message = "We cannot answer right now: the service is busy or restarting. Try again in a few seconds."

    def __init__(self, message: str | None = None, *, retry_after: int = RETRY_AFTER_UNAVAILABLE) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Vetoed(AppError):
    """Raised by a hook in app/hooks.py to refuse an operation."""

    code = "OPERATION_REFUSED"
    status_code = 403
    default_message = "This operation is not allowed."


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """JSON for the API and for clients that ask for it; HTML pages otherwise."""
    if request.scope["path"].startswith("/api/"):  # not request.url: a malformed Host header breaks it
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


CSRF_FAILED = "CSRF token verification failed"  # all that Litestar's CSRF middleware says
CSRF_MESSAGE = "This form has expired: its security token no longer matches."
RATE_LIMITED = "Too many requests from your network. Wait a minute and try again."
UNREADABLE = "The request could not be read: send UTF-8 JSON, not nested so deeply."
CONFLICT = "Something changed at the same moment as your request. Reload and try again."
# Refusals before a form's handler ran, by code, and what to do next: on an error page, or (for a
# boosted form) next to the form, which keeps what was typed.
_FORM_REFUSALS = {
    "INVALID_CSRF_TOKEN": (
        "Go back, reload the page and send it again.",
        "Copy what you typed, reload the page and send it again.",
    ),
    "TOO_MANY_REQUESTS": ("", "The form is kept as it is."),
    "INVALID_ORIGIN": ("", ""),
}


def _error_response(
    request: Request[Any, Any, Any], status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    if wants_json(request):
        return Response({"code": code, "message": message}, status_code=status, headers=headers)
    on_page, next_to_form = _FORM_REFUSALS.get(code, ("", ""))
    if code in _FORM_REFUSALS and request.method != "GET" and request.headers.get("hx-boosted") == "true":
        # The answer goes into the page's notice region instead of replacing the page and the form.
        swap = {"HX-Retarget": "#notice-region", "HX-Reswap": "innerHTML", "HX-Push-Url": "false"}
        return Template(
            template_name="errors/_refused_form.html",
            context={"message": f"{message} {next_to_form}".strip()},
            status_code=status,
            headers={**(headers or {}), **swap},
            media_type=MediaType.HTML,
        )
    message = f"{message} {on_page}".strip()
    template = "errors/404.html" if status == 404 else "errors/error.html"
    if status == 404:
        # A path no route matched never passed the CSRF middleware, so its page has no token; a
        # route that answers 404 to hide itself (a page the caller may not know of) must not
        # differ by one: no 404 page carries a token (it has no form).
        ScopeState.from_scope(request.scope).csrf_token = Empty
    if status >= 500 and status != 503:  # 503 says what to do (try again), not "something went wrong"
        template = "errors/500.html"
    return Template(
        template_name=template,
        context={
            "status": status,
            "message": message,
            "code": code,
            "app_name": request.app.state.settings.app.name,
            "user": request.scope.get("user"),
        },
        status_code=status,
        headers=headers,
        media_type=MediaType.HTML,
    )


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    if isinstance(exc, (Unauthorized, SessionNotFresh)) and not wants_json(request):
        page = "/sign-in" if isinstance(exc, Unauthorized) else "/reauthenticate"
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = request.scope["path"] + (f"?{query}" if query else "")
        if isinstance(exc, SessionNotFresh) and exc.resume_to:
            target = exc.resume_to
        elif request.method != "GET":
            target = request.headers.get("hx-current-url") or request.scope["path"]
            target = "/" + target.split("/", 3)[-1] if target.startswith("http") else target
        location = f"{page}?{urlencode({'next': target})}"
        if request.headers.get("hx-request"):
            return Response(None, status_code=204, headers={"HX-Redirect": location})
        return Redirect(location, status_code=303)
    retry_after = exc.retry_after if isinstance(exc, (TooManyAttempts, ServiceUnavailable)) else None
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return _error_response(request, exc.status_code, exc.code, exc.message, headers)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 429:
        headers.setdefault("Retry-After", "60")
    if isinstance(exc, ValidationException):
        message = _validation_message(exc)
        return _error_response(request, 400, "VALIDATION_ERROR", message, headers)
    if isinstance(exc.__cause__, SerializationException):  # Litestar's 400 for a body msgspec cannot decode
        return unreadable_body_handler(request, exc.__cause__)
    if status == 403 and exc.detail == CSRF_FAILED:
        return _error_response(request, 403, "INVALID_CSRF_TOKEN", CSRF_MESSAGE, headers)
    message = exc.detail if status < 500 and exc.detail else "Something went wrong."
    if status == 429 and message == "Too Many Requests":  # the request gate's rate limit
        message = RATE_LIMITED
    if status == 404:
        message = "We could not find that page."
    return _error_response(request, status, HTTP_CODES.get(status, "ERROR"), message, headers)


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for item in extra[:5]:
        if isinstance(item, dict):
            key = item.get("key") or "body"
            parts.append(f"{key}: {item.get('message', 'invalid')}")
    return "Invalid request: " + "; ".join(parts) if parts else "The request body is not valid."


def unreadable_body_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A body the JSON decoder cannot read, in a request or a credential: not JSON, not UTF-8 or
    nested past the recursion limit. One message, whatever the decoder's version says (msgspec
    0.23 reports invalid UTF-8 itself; earlier versions raised UnicodeDecodeError)."""
    logger.info("Unreadable input on %s %s: %s", request.method, request.scope["path"], type(exc).__name__)
    return _error_response(request, 400, "BAD_REQUEST", UNREADABLE)


def database_error_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    """A value the database refuses is the request's fault (SQLSTATE class 22, "data exception":
    PostgreSQL's answer to a NUL character or a string over its column's length); a write that
    lost a race for a unique value is a conflict; a database that cannot answer now is a 503;
    any other database error is ours."""
    if isinstance(exc, DataError) or str(getattr(exc.orig, "sqlstate", "") or "").startswith("22"):
        logger.info("Value refused by the database on %s %s: %s", request.method, request.scope["path"], exc.orig)
        message = "A value in the request is too long or contains a character that cannot be stored."
        return _error_response(request, 400, "VALIDATION_ERROR", message)
    if isinstance(exc, IntegrityError) and _is_unique_violation(exc):
        logger.info("Concurrent change refused on %s %s: %s", request.method, request.scope["path"], exc.orig)
        return _error_response(request, 409, "CONFLICT", CONFLICT)
    return internal_error_handler(request, exc)


def _is_unique_violation(exc: IntegrityError) -> bool:
    """A unique constraint refused the row (PostgreSQL 23505, SQLite's "UNIQUE constraint failed")."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


# SQLSTATE classes and codes of a server that cannot answer now: connection exceptions (08),
# insufficient resources (53: too many connections, out of memory), operator intervention (57P01-3:
# shutting down, crashed, starting up), and a transaction rolled back to break a deadlock or a
# serialization conflict (40001, 40P01), which succeeds when sent again.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03", "40001", "40P01")
# SQLite's answers when another process held the write lock past the busy timeout, or when its
# file cannot be read or written (a volume not mounted, a full or failing disk).
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk I/O error",
    "database or disk is full",
)


def unavailable(exc: BaseException) -> bool:
    """Whether the error (or one it was raised from) means a dependency cannot answer right now:
    the database or Redis unreachable, restarting or overloaded, or no database connection free
    within DATABASE_POOL_TIMEOUT."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = str(getattr(current, "sqlstate", "") or "")
        if sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if isinstance(current, sqlite3.OperationalError) and str(current).startswith(_SQLITE_UNAVAILABLE):
            return True
        if not isinstance(current, OSError) and dead_connection(current):  # OSError: only the network's, below
            return True
        if isinstance(
            current,
            PoolTimeout
            | ConnectionError
            | TimeoutError
            | socket.gaierror  # the database's host name does not resolve
            | redis.exceptions.ConnectionError
            | redis.exceptions.TimeoutError,
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The last resort: a dependency that cannot answer is a 503 with Retry-After (one log line);
    anything else is a bug of ours, a 500 whose traceback goes to the log, never to the client."""
    if unavailable(exc):
        logger.warning(
            "Unavailable dependency on %s %s: %s: %s", request.method, request.scope["path"], type(exc).__name__, exc
        )
        unavailable_error = ServiceUnavailable()
        return app_error_handler(request, unavailable_error)
    logger.exception("Unhandled error on %s %s", request.method, request.scope["path"], exc_info=exc)
    return _error_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "Something went wrong on our side."
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    AppError: app_error_handler,
    HTTPException: http_error_handler,
    UnicodeDecodeError: unreadable_body_handler,
    RecursionError: unreadable_body_handler,
    DBAPIError: database_error_handler,
    Exception: internal_error_handler,
}
