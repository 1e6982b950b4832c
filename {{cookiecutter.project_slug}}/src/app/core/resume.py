"""Keeping what someone typed into a form across an interruption, without ever keeping a secret.

A sensitive form posted on a session that is no longer fresh sends its user to confirm their
password first. So that they come back to the form as they left it, its fields are put aside in
the app's store (memory, or Redis when several instances share one) under a random handle that
travels in the return URL. The handle is stored only as a hash, works once, only for the session
that made it, and expires after STASH_TTL seconds. Fields that could hold a secret (passwords,
CSRF tokens, one-time codes) are dropped before anything is stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from litestar.stores.base import Store

from app.core.crypto import hash_token, new_token, usable_token

STASH_TTL = 600
MAX_FIELDS = 30
MAX_VALUE_LENGTH = 4096
# A field whose name contains one of these is never stored.
SECRET_MARKERS = ("password", "passphrase", "secret", "token", "csrf", "code", "otp", "key")
KEY_PREFIX = "form-stash:"


FieldValue = str | list[str]  # a list for a field sent more than once (a group of checkboxes)


@dataclass(frozen=True)
class StashedForm:
    """A form put aside: where it was posted to, and its non-secret fields."""

    action: str
    fields: dict[str, str]
    # Fields sent more than once, each with all its values (in `fields` only the first).
    repeated: dict[str, list[str]] = field(default_factory=dict)

    def getall(self, name: str) -> list[str]:
        """Every value of `name` (checkbox groups); [] when the form did not have it."""
        if name in self.repeated:
            return list(self.repeated[name])
        return [self.fields[name]] if name in self.fields else []


def keepable(fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    """The fields that may be stored: no secrets, nothing over-long, a bounded number of them."""
    kept: dict[str, FieldValue] = {}
    for name, value in fields.items():
        lowered = name.lower()
        values = [value] if isinstance(value, str) else value
        too_long = len(values) > MAX_FIELDS or any(len(item) > MAX_VALUE_LENGTH for item in values)
        if any(marker in lowered for marker in SECRET_MARKERS) or too_long:
            continue
        kept[name] = value
        if len(kept) == MAX_FIELDS:
            break
    return kept


class FormStash:
    """Puts forms aside for their owner (a session id) and gives them back once."""

    def __init__(self, store: Store, ttl: int = STASH_TTL) -> None:
        self.store = store
        self.ttl = ttl

    async def put(self, owner: str, action: str, fields: Mapping[str, FieldValue]) -> str:
        """Store the form's non-secret fields; return the handle for the return URL."""
        handle = new_token()
        value = json.dumps({"owner": owner, "action": action, "fields": keepable(fields)})
        await self.store.set(KEY_PREFIX + hash_token(handle), value, expires_in=self.ttl)
        return handle

    async def take(self, owner: str, handle: str) -> StashedForm | None:
        """The form put aside under `handle` by `owner`, removed from the store; None otherwise."""
        if not usable_token(handle):
            return None
        key = KEY_PREFIX + hash_token(handle)
        raw = await self.store.get(key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if data["owner"] != owner:
                return None  # someone else's handle: leave it for its owner
            kept: dict[str, object] = data["fields"]
            single = {str(k): str(v) for k, v in kept.items() if not isinstance(v, list)}
            repeated = {str(k): [str(item) for item in v] for k, v in kept.items() if isinstance(v, list)}
            first = {name: values[0] for name, values in repeated.items() if values}
            stashed = StashedForm(str(data["action"]), single | first, repeated)
        except (ValueError, KeyError, TypeError, AttributeError):
            stashed = None
        await self.store.delete(key)
        return stashed
