"""The form stash: kept once, for its owner only, for a while, and never with a secret in it."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import litestar.stores.base
import pytest
from litestar.stores.memory import MemoryStore

from app.core.crypto import hash_token
from app.core.resume import KEY_PREFIX, MAX_FIELDS, FormStash, StashedForm, keepable


def test_secrets_and_oversized_values_are_never_kept() -> None:
    fields = {
        "email": "new@example.com",
        "current_password": "hunter2 hunter2",
        "newPassword": "x" * 12,
        "_csrf_token": "abc",
        "api_key": "k",
        "otp_code": "123456",
        "confirm": "me@example.com",
        "revoke_others": "on",
        "bio": "x" * 5000,
    }
    assert keepable(fields) == {"email": "new@example.com", "confirm": "me@example.com", "revoke_others": "on"}
    assert len(keepable({f"f{i}": "v" for i in range(100)})) == MAX_FIELDS


async def test_a_form_comes_back_once_for_its_owner_only() -> None:
    store = MemoryStore()
    stash = FormStash(store)
    handle = await stash.put("session-a", "/account/email", {"email": "new@example.com", "password": "secret 1"})
    assert await stash.take("session-b", handle) is None  # someone else's: not given, not burnt
    assert await stash.take("session-a", handle) == StashedForm("/account/email", {"email": "new@example.com"})
    assert await stash.take("session-a", handle) is None  # used up


async def test_only_a_hash_of_the_handle_is_stored_and_nothing_secret() -> None:
    store = MemoryStore()
    handle = await FormStash(store).put("owner", "/account/password", {"new_password": "a long secret 1"})
    assert await store.exists(KEY_PREFIX + hash_token(handle))
    assert not await store.exists(KEY_PREFIX + handle)
    raw = await store.get(KEY_PREFIX + hash_token(handle))
    assert raw is not None and b"a long secret 1" not in raw and handle.encode() not in raw


async def test_a_kept_form_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    stash = FormStash(MemoryStore(), ttl=60)
    handle = await stash.put("owner", "/account/email", {"email": "x@example.com"})

    class AMinuteLater(datetime):  # the store's clock (Litestar's StorageObject reads datetime.now)
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + timedelta(seconds=60)

    monkeypatch.setattr(litestar.stores.base, "datetime", AMinuteLater)
    assert await stash.take("owner", handle) is None


async def test_unknown_malformed_and_over_long_handles_give_nothing() -> None:
    store = MemoryStore()
    stash = FormStash(store)
    await store.set(KEY_PREFIX + hash_token("broken"), b"not json")
    for handle in ("", "nope", "broken", "x" * 500):
        assert await stash.take("owner", handle) is None


async def test_a_field_sent_several_times_comes_back_with_every_value() -> None:
    stash = FormStash(MemoryStore())
    handle = await stash.put("owner", "/account/api-keys", {"name": "ci", "scopes": ["read", "write"], "one": ["x"]})
    stashed = await stash.take("owner", handle)
    assert stashed is not None
    assert stashed.getall("scopes") == ["read", "write"]
    assert stashed.fields["scopes"] == "read"  # the first value, as a form's .get() gives it
    assert stashed.getall("name") == ["ci"]
    assert stashed.getall("one") == ["x"]
    assert stashed.getall("missing") == []
    assert keepable({"scopes": ["a"] * (MAX_FIELDS + 1)}) == {}  # an absurd number of values is not kept
