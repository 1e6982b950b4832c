"""Which `next` / `callbackURL` targets may be redirected to: same-site paths or trusted origins."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_FORBIDDEN_CHARS = ("\\", "\t", "\n", "\r", "\x00")


def safe_redirect(target: str | None, trusted_origins: Iterable[str], default: str = "/") -> str:
    """Return `target` if it is a relative path on this site or a URL on a trusted origin, else `default`.

    Refuses `//evil.com`, `/\\evil.com`, `https://app@evil.com`, `javascript:` and control characters.
    """
    if not target or len(target) > 2048 or any(c in target for c in _FORBIDDEN_CHARS):
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    try:
        parts = urlsplit(target)
        hostname = parts.hostname
    except ValueError:  # e.g. "http://[::1": an unclosed IPv6 literal
        return default
    if not parts.scheme and not parts.netloc:
        if target.startswith("/") and not target.startswith("//"):
            return target
        return default
    if parts.scheme not in ("http", "https") or parts.username or parts.password or not hostname:
        return default
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin in {o.rstrip("/").lower() for o in trusted_origins}:
        return target
    return default
