"""The app's cookies: one place decides their name, prefix and flags.

In production every cookie of the app (but the flash notice, see app.core.ui) is `__Host-<name>`:
Secure, Path=/, no Domain, so that no other host (a sibling subdomain) can set or shadow it.
Elsewhere (http://localhost) the plain name, without Secure, so that development over http works.
All are HttpOnly (no script reads them) and SameSite=Lax unless a caller asks for Strict.
"""

from __future__ import annotations

from typing import Literal

from litestar.datastructures import Cookie

from app.settings import AppSettings

SameSite = Literal["lax", "strict", "none"]


class Cookies:
    """Builds the app's cookies for its environment (see the module docstring)."""

    def __init__(self, settings: AppSettings) -> None:
        self.secure = settings.is_production

    def name(self, base: str) -> str:
        """The cookie's name in this environment: `__Host-<base>` in production."""
        return f"__Host-{base}" if self.secure else base

    def make(self, base: str, value: str, *, max_age: int | None = None, same_site: SameSite = "lax") -> Cookie:
        """A cookie named `base` (prefixed in production) holding `value`; a session cookie without `max_age`."""
        return Cookie(
            key=self.name(base),
            value=value,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite=same_site,
        )

    def expired(self, base: str) -> Cookie:
        """The same cookie, emptied and expired: the browser drops it."""
        return self.make(base, "", max_age=0)
