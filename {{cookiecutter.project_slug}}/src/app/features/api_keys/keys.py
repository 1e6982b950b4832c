"""What an API key looks like: a fixed prefix and 256 random bits.

The prefix lets people (and secret scanners) recognise a leaked key, and lets the session
resolver tell `Authorization: Bearer <key>` from a bearer session token: a key is always
`len(KEY_PREFIX) + 43` characters long, a session token exactly 43. Change the prefix to brand
your keys (e.g. "myapp_"); keys already issued keep working from the x-api-key header, and as
bearer values only while they keep the old prefix's length.
"""

from __future__ import annotations

from app.core.crypto import new_token

KEY_PREFIX = "ak_"
KEY_LENGTH = len(KEY_PREFIX) + 43  # secrets.token_urlsafe(32) gives 43 characters
START_LENGTH = len(KEY_PREFIX) + 6  # what the list shows: "ak_Xy12Ab…"


def new_key() -> str:
    """A fresh key: the prefix followed by 256 bits from `secrets`."""
    return KEY_PREFIX + new_token()


def looks_like_key(value: str) -> bool:
    """Whether a bearer value is one of our keys rather than a session token (no lookup)."""
    return len(value) == KEY_LENGTH and value.startswith(KEY_PREFIX)
