"""SecretBox: what is sealed with SECRET_KEY opens only with it (or a fallback), for its purpose and owner."""

from __future__ import annotations

import base64

import pytest

from app.core.crypto import DecryptionError, SecretBox

OLD = "old-secret-" + "a" * 40
NEW = "new-secret-" + "b" * 40


def test_sealed_data_opens_with_the_same_secret_purpose_and_context() -> None:
    box = SecretBox(NEW, "signing-key")
    sealed = box.seal(b"private bytes", context="row-1")
    assert b"private" not in sealed.encode() and sealed.startswith("v1.")
    assert box.unseal(sealed, context="row-1") == b"private bytes"
    assert box.seal(b"private bytes", context="row-1") != sealed  # a fresh nonce every time


@pytest.mark.parametrize(
    ("box", "context"),
    [
        (SecretBox(NEW, "totp-seed"), "row-1"),  # another purpose
        (SecretBox(NEW, "signing-key"), "row-2"),  # copied to another row
        (SecretBox(OLD, "signing-key"), "row-1"),  # another secret
    ],
    ids=["purpose", "context", "secret"],
)
def test_sealed_data_does_not_open_elsewhere(box: SecretBox, context: str) -> None:
    sealed = SecretBox(NEW, "signing-key").seal(b"private bytes", context="row-1")
    with pytest.raises(DecryptionError):
        box.unseal(sealed, context=context)


def test_tampering_and_garbage_are_refused() -> None:
    box = SecretBox(NEW, "signing-key")
    sealed = box.seal(b"private bytes")
    prefix, payload = sealed.rsplit(".", 1)
    data = bytearray(base64.urlsafe_b64decode(payload))
    data[len(data) // 2] ^= 1  # one bit of the ciphertext
    flipped = f"{prefix}.{base64.urlsafe_b64encode(bytes(data)).decode()}"
    for bad in (flipped, "v1.", "v2" + sealed[2:], sealed.rsplit(".", 1)[0] + ".!!!", "nonsense"):
        with pytest.raises(DecryptionError):
            box.unseal(bad)


def test_a_rotated_secret_still_opens_through_its_fallback() -> None:
    sealed = SecretBox(OLD, "signing-key").seal(b"kept")
    rotated = SecretBox(NEW, "signing-key", fallbacks=[OLD])
    assert rotated.unseal(sealed) == b"kept"
    assert not rotated.is_current(sealed)
    assert rotated.is_current(rotated.seal(b"kept"))
    with pytest.raises(DecryptionError):
        SecretBox(NEW, "signing-key").unseal(sealed)
