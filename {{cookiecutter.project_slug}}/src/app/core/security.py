"""Security headers on every response, the Origin / Fetch-Metadata check, and CSRF settings.

HTML forms carry a CSRF token (Litestar's CSRF middleware, double-submit cookie). Every unsafe
request must also come from a trusted origin: the JSON API under /api/ relies on that check
alone, as Better Auth's does, so its client and non-browser clients need no CSRF token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from litestar.config.csrf import CSRFConfig
from litestar.types import Message, Scope

from app.core.cookies import Cookies
from app.core.errors import InvalidOrigin
from app.core.gate import step_headers
from app.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"  # a JSON answer loads nothing and is never framed


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def trusted_origins(settings: Settings) -> frozenset[str]:
    """The base URL's origin plus APP_TRUSTED_ORIGINS, normalised.

    A loopback base URL (http://localhost:8000 in development) also trusts its other loopback
    spellings on the same port: uvicorn prints http://127.0.0.1:8000, and people click it.
    """
    origins = {settings.app.origin, *settings.app.trusted_origins}
    parts = urlsplit(settings.app.origin)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    if host in LOOPBACK_HOSTS:
        port = f":{parts.port}" if parts.port else ""
        origins |= {f"{parts.scheme}://{loopback}{port}" for loopback in LOOPBACK_HOSTS}
    return frozenset(o.rstrip("/").lower() for o in origins)


def security_headers(settings: Settings, no_store: Sequence[str] = ()) -> Any:
    """A `before_send` hook: app-level, so it also covers 404s, 405s and 500s.

    Pages get the whole set. JSON answers get what applies to them (OWASP's REST guidance): a CSP
    that allows nothing and no framing, nosniff, HSTS; the document-only headers (referrer,
    opener, permissions policies) would only lengthen every API answer, the hot paths' included.
    Answers under the `no_store` path prefixes (the auth pages and API, given by the app) and any
    answer setting a cookie are also `no-store`.
    The sets are encoded once, here; a header of the same name that a handler set is replaced.
    The headers the request gate's steps returned (the RateLimit fields, a renewed session
    cookie: app.core.gate) are added here too, and their cookies make the answer `no-store`.
    """
    no_store_prefixes = tuple(no_store)
    hsts = [("strict-transport-security", "max-age=63072000; includeSubDomains")] if settings.app.is_production else []
    document = [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        *hsts,
    ]
    data = [("content-security-policy", API_CSP), ("x-content-type-options", "nosniff"), *hsts]
    do_not_store = [("cache-control", "no-store")]
    # (is JSON, no-store) -> (headers to add, their names)
    sets = {
        (json, store): _encoded([*(data if json else document), *(do_not_store if store else [])])
        for json in (False, True)
        for store in (False, True)
    }

    ever_set = frozenset(name for _, names in sets.values() for name in names)

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        own = list(message.get("headers", ()))
        is_json = sets_cookie = clash = False
        for name, value in own:
            lowered = name.lower()
            if lowered == b"content-type":
                is_json = value.startswith(b"application/json")
            elif lowered == b"set-cookie":
                sets_cookie = True
            elif lowered in ever_set:
                clash = True
        added, adds_cookie = step_headers(scope, own)
        path: str = scope.get("path", "")
        ours, theirs = sets[is_json, sets_cookie or adds_cookie or path.startswith(no_store_prefixes)]
        if clash:
            own = [header for header in own if header[0].lower() not in theirs]
        message["headers"] = [*own, *added, *ours]

    return before_send


def _encoded(headers: list[tuple[str, str]]) -> tuple[list[tuple[bytes, bytes]], frozenset[bytes]]:
    encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    return encoded, frozenset(name for name, _ in encoded)


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1/": an unclosed IPv6 literal
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(method: str, headers: dict[str, str], trusted: frozenset[str]) -> None:
    """Raise InvalidOrigin unless an unsafe request is same-origin or from a trusted origin.

    Browsers send Origin (and Sec-Fetch-Site) on every unsafe request; a request with neither
    that still carries cookies is refused, one with no cookies (a bearer client) is allowed.
    """
    if method in SAFE_METHODS:
        return
    origin = headers.get("origin")
    if origin and origin != "null":
        if origin.rstrip("/").lower() not in trusted:
            raise InvalidOrigin()
        return
    if origin == "null":
        raise InvalidOrigin()
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site:
        if fetch_site not in ("same-origin", "none"):
            raise InvalidOrigin()
        return
    referer = headers.get("referer")
    if referer:
        if _origin_of(referer) not in trusted:
            raise InvalidOrigin()
        return
    if "cookie" in headers:
        raise InvalidOrigin("Missing Origin header on a request that carries cookies.")


class OriginCheck:
    """Refuses unsafe requests from untrusted origins before any handler runs (a step of app.core.gate)."""

    def __init__(self, trusted: frozenset[str], explain: bool = False, exempt: frozenset[str] = frozenset()) -> None:
        self.trusted = trusted
        self.explain = explain  # development: say which origins are trusted and how to add one
        self.exempt = exempt  # paths whose POSTs come from another site by design

    def __call__(self, scope: Scope) -> None:
        method = str(scope.get("method", "GET"))
        if method in SAFE_METHODS or scope["path"] in self.exempt:
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            check_origin(method, headers, self.trusted)
        except InvalidOrigin as refused:
            if not self.explain:
                raise
            trusted = ", ".join(sorted(self.trusted))
            raise InvalidOrigin(
                f"{refused.message} Trusted origins: {trusted}. Open the app at APP_BASE_URL, or add "
                "this origin to APP_TRUSTED_ORIGINS."
            ) from None


def csrf_config(settings: Settings) -> CSRFConfig:
    """CSRF tokens for HTML forms and htmx requests; the JSON API is covered by the origin check."""
    cookies = Cookies(settings.app)
    return CSRFConfig(
        secret=settings.secrets.secret_key,
        cookie_name=cookies.name("csrftoken"),
        cookie_secure=cookies.secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrftoken",
        exclude=["^/api/", "^/static/", "^/health$", "^/ready$"],
    )
