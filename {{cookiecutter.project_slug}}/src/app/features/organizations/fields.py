"""The fields of an organization as people type them: name, slug, logo URL, role. Bad input is a field error."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from app.core.errors import InvalidInput
from app.core.names import one_line_name
from app.features.organizations import access

NAME_MAX = 100
SLUG_MAX = 48
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
LOGO_MAX = 2048


def slugify(name: str) -> str:
    """A URL slug from a name: ASCII letters and digits joined by hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX].strip("-")


def clean_name(raw: str) -> str:
    """An organization's name: one visible line of 1..100 characters (app.core.names)."""
    name = one_line_name(raw, NAME_MAX)
    if name is None:
        raise InvalidInput(f"Enter the organization's name (at most {NAME_MAX} characters).", field="name")
    return name


def clean_slug(raw: str) -> str:
    """A slug: 1..48 lower-case letters, digits and inner hyphens."""
    slug = (raw or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"Use 1 to {SLUG_MAX} lower-case letters, digits and hyphens (not at the start or end).", field="slug"
        )
    return slug


def clean_logo(raw: str | None) -> str | None:
    """An optional logo: an https URL, or None."""
    logo = (raw or "").strip()
    if not logo:
        return None
    parts = urlsplit(logo)
    bad_chars = any(ord(c) <= 32 or ord(c) == 127 for c in logo)
    if len(logo) > LOGO_MAX or bad_chars or parts.scheme != "https" or not parts.hostname or parts.username:
        raise InvalidInput("The logo must be an https:// address of an image.", field="logo")
    return logo


def clean_role(raw: str, field: str = "role") -> str:
    """One of the roles of app.features.organizations.access."""
    if raw not in access.RANK:
        raise InvalidInput(f"Choose a role: {', '.join(access.grantable(access.OWNER))}.", field=field)
    return raw
