"""Registration and sign-in with real WebAuthn payloads, and every way an attacker may try to bend them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from sqlalchemy import update
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.encode_cbor import encode_cbor

from app.auth.models import Verification
from app.core.db import utcnow
from tests.conftest import BASE_URL, AppFactory, Client, signed_in
from tests.features.passkeys.authenticator import UP, UV
from tests.features.passkeys.helpers import (
    age_sessions,
    audit_events,
    authenticator,
    passkey_rows,
    register,
    sign_in,
    sign_in_options,
)


async def test_register_then_sign_in_without_password(app: Litestar, client: Client) -> None:
    email = await signed_in(client)
    device = authenticator()
    created = await register(client, device, name="MacBook Touch ID")
    assert created.status_code == 200, created.text
    assert created.json()["name"] == "MacBook Touch ID"
    listed = (await client.get("/api/auth/passkey/list-user-passkeys")).json()
    assert [p["name"] for p in listed] == ["MacBook Touch ID"]
    assert listed[0]["credentialID"] == device.credentials[0].b64

    await client.post("/api/auth/sign-out")
    assert (await client.get("/api/auth/get-session")).json() is None
    answer = await sign_in(client, device)
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["email"] == email
    session = (await client.get("/api/auth/get-session")).json()
    assert session["user"]["email"] == email
    rows = await passkey_rows(app)
    assert rows[0].sign_count == 1 and rows[0].last_used_at is not None
    events = [row.event for row in await audit_events(app)]
    assert events == ["passkey.registered", "passkey.used"]


async def test_default_name_from_the_browser_when_the_authenticator_is_unknown(client: Client) -> None:
    await signed_in(client)
    client.headers["user-agent"] = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
    )
    created = await register(client, authenticator())
    assert created.json()["name"] == "Passkey on Chrome (Linux)"


async def test_default_name_from_a_known_aaguid(client: Client) -> None:
    await signed_in(client)
    icloud = bytes.fromhex("fbfc3007154e4ecc8c0b6e020557d7bd")
    created = await register(client, authenticator(aaguid=icloud))
    assert created.json()["name"] == "iCloud Keychain"
    assert created.json()["aaguid"] == "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"


async def test_registration_needs_a_fresh_session(app: Litestar, client: Client) -> None:
    await signed_in(client)
    await age_sessions(app, minutes=60)
    answer = await client.post("/api/auth/passkey/generate-register-options")
    assert answer.status_code == 403
    assert answer.json()["code"] == "SESSION_NOT_FRESH"


async def test_registration_needs_a_session(client: Client) -> None:
    answer = await client.post("/api/auth/passkey/generate-register-options")
    assert answer.status_code == 401


async def test_forged_origin_in_client_data_is_refused(app: Litestar, client: Client) -> None:
    await signed_in(client)
    created = await register(client, authenticator(), origin="https://evil.example")
    assert created.status_code == 401  # in plain words; what the library said is in the audit log
    assert created.json()["message"].startswith("The passkey could not be registered.")
    assert await passkey_rows(app) == []
    device = authenticator()
    assert (await register(client, device)).status_code == 200
    await client.post("/api/auth/sign-out")
    answer = await sign_in(client, device, origin="https://evil.example")
    assert answer.status_code == 401
    assert (await client.get("/api/auth/get-session")).json() is None
    failures = [row for row in await audit_events(app) if row.event == "passkey.failed"]
    assert len(failures) == 2
    assert any(row.data["purpose"] == "registration" and "origin" in row.data["reason"].lower() for row in failures)


async def test_origin_and_host_headers_do_not_change_the_relying_party(app: Litestar, client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    assert (await register(client, device)).status_code == 200
    await client.post("/api/auth/sign-out")
    options = await client.post("/api/auth/passkey/generate-authenticate-options", headers={"host": "evil.example"})
    assert options.json()["rpId"] == "testserver.local"


async def test_wrong_rp_id_hash_is_refused(app: Litestar, client: Client) -> None:
    await signed_in(client)
    assert (await register(client, authenticator(), rp_id="evil.example")).status_code == 401
    device = authenticator()
    assert (await register(client, device)).status_code == 200
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, device, rp_id="evil.example")).status_code == 401


async def test_replayed_assertion_is_refused(client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    await register(client, device)
    await client.post("/api/auth/sign-out")
    options = await sign_in_options(client)
    assertion = device.get(options)
    first = await client.post("/api/auth/passkey/verify-authentication", json={"response": assertion})
    assert first.status_code == 200
    await client.post("/api/auth/sign-out")
    again = await client.post("/api/auth/passkey/verify-authentication", json={"response": assertion})
    assert again.status_code == 400
    assert again.json()["code"] == "INVALID_PASSKEY_CHALLENGE"
    assert (await client.get("/api/auth/get-session")).json() is None


async def test_replay_of_a_counterless_assertion_is_refused_by_the_single_use_challenge(client: Client) -> None:
    await signed_in(client)
    device = authenticator(counter_step=0)
    await register(client, device)
    await client.post("/api/auth/sign-out")
    options = await sign_in_options(client)
    assertion = device.get(options)
    assert (
        await client.post("/api/auth/passkey/verify-authentication", json={"response": assertion})
    ).status_code == 200
    await client.post("/api/auth/sign-out")
    replay = await client.post("/api/auth/passkey/verify-authentication", json={"response": assertion})
    assert replay.status_code == 400
    assert (await sign_in(client, device)).status_code == 200  # sign count 0 forever is allowed


async def test_expired_challenge_is_refused(app: Litestar, client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    await register(client, device)
    await client.post("/api/auth/sign-out")
    options = await sign_in_options(client)
    async with app.state.db.sessions() as db:
        await db.exec(update(Verification).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    answer = await client.post("/api/auth/passkey/verify-authentication", json={"response": device.get(options)})
    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_PASSKEY_CHALLENGE"


async def test_challenge_from_another_browser_is_refused(app: Litestar, client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    await register(client, device)
    await client.post("/api/auth/sign-out")
    options = await sign_in_options(client)  # asked for by this browser
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await sign_in_options(other)  # the other browser has its own binding cookie
        answer = await other.post("/api/auth/passkey/verify-authentication", json={"response": device.get(options)})
        assert answer.status_code == 400
        assert (await other.get("/api/auth/get-session")).json() is None
    # Nor without any binding cookie at all.
    async with Client(app=app, base_url=BASE_URL) as bare:
        bare.headers["origin"] = BASE_URL
        answer = await bare.post("/api/auth/passkey/verify-authentication", json={"response": device.get(options)})
        assert answer.status_code == 400


async def test_challenges_are_stored_hashed(app: Litestar, client: Client) -> None:
    options = await sign_in_options(client)
    async with app.state.db.sessions() as db:
        from sqlmodel import select

        rows = (await db.exec(select(Verification))).all()
    assert len(rows) == 1
    assert options["challenge"] not in (rows[0].token_hash, rows[0].payload)
    cookie = next(c for c in client.cookies.jar if c.name == "passkey_binding")
    assert cookie.value not in rows[0].identifier


async def test_user_verification_is_required_for_passwordless_sign_in(client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    await register(client, device, flags=UP)  # registering without UV is fine
    await client.post("/api/auth/sign-out")
    answer = await sign_in(client, device, flags=UP)
    assert answer.status_code == 401
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await sign_in(client, device)).status_code == 200


async def test_user_presence_is_required(client: Client) -> None:
    await signed_in(client)
    assert (await register(client, authenticator(), flags=UV)).status_code == 401
    device = authenticator()
    await register(client, device)
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, device, flags=UV)).status_code == 401


async def test_sign_count_that_does_not_increase_is_refused(app: Litestar, client: Client) -> None:
    await signed_in(client)
    device = authenticator()
    await register(client, device)
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, device, sign_count=5)).status_code == 200
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, device, sign_count=5)).status_code == 401  # a cloned authenticator
    assert (await sign_in(client, device, sign_count=3)).status_code == 401
    assert (await client.get("/api/auth/get-session")).json() is None
    assert (await passkey_rows(app))[0].sign_count == 5
    assert (await sign_in(client, device, sign_count=6)).status_code == 200


async def test_duplicate_credential_id_is_refused(app: Litestar, client: Client) -> None:
    await signed_in(client)
    same_id = b"\x01" * 32
    assert (await register(client, authenticator(), credential_id=same_id)).status_code == 200
    again = await register(client, authenticator(), credential_id=same_id)
    assert again.status_code == 409
    assert again.json()["code"] == "PASSKEY_ALREADY_REGISTERED"
    async with Client(app=app, base_url=BASE_URL) as other:
        other.headers["origin"] = BASE_URL
        await signed_in(other)
        stolen = await register(other, authenticator(), credential_id=same_id)
        assert stolen.status_code == 409
    assert len(await passkey_rows(app)) == 1


async def test_a_credential_of_b_never_signs_in_a(app: Litestar, client: Client) -> None:
    email_a = await signed_in(client)
    device_a = authenticator()
    await register(client, device_a)
    async with Client(app=app, base_url=BASE_URL) as b:
        b.headers["origin"] = BASE_URL
        email_b = await signed_in(b)
        device_b = authenticator()
        await register(b, device_b)
    await client.post("/api/auth/sign-out")
    # B's passkey answering with A's user handle: refused.
    forged = await sign_in(client, device_b, user_handle=device_a.credentials[0].user_handle)
    assert forged.status_code == 401
    assert (await client.get("/api/auth/get-session")).json() is None
    # B's passkey signs in B, never A.
    assert (await sign_in(client, device_b)).json()["user"]["email"] == email_b
    await client.post("/api/auth/sign-out")
    assert (await sign_in(client, device_a)).json()["user"]["email"] == email_a


async def test_registration_challenge_is_bound_to_the_user_who_asked(app: Litestar, client: Client) -> None:
    await signed_in(client)
    options = (await client.post("/api/auth/passkey/generate-register-options")).json()
    await client.post("/api/auth/sign-out")
    await signed_in(client)  # another account in the same browser
    answer = await client.post(
        "/api/auth/passkey/verify-registration", json={"response": authenticator().create(options)}
    )
    assert answer.status_code == 401
    assert await passkey_rows(app) == []


async def test_garbage_responses_get_clear_errors(client: Client) -> None:
    await sign_in_options(client)
    bodies: list[dict[str, Any]] = [
        {},
        {"response": {}},
        {"response": {"response": {"clientDataJSON": "!!"}}},
        {"response": "x"},
    ]
    for body in bodies:
        answer = await client.post("/api/auth/passkey/verify-authentication", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["message"]


async def test_an_unverified_address_does_not_sign_in_where_verification_is_required(make_app: AppFactory) -> None:
    lenient = make_app(auth={"allow_unverified_sign_in": True})
    device = authenticator()
    async with Client(app=lenient, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        assert (await register(client, device)).status_code == 200
    strict = make_app(auth={"allow_unverified_sign_in": False})
    async with Client(app=strict, base_url=BASE_URL) as client:
        client.headers["origin"] = BASE_URL
        answer = await sign_in(client, device)
        assert answer.status_code == 403
        assert answer.json()["code"] == "EMAIL_NOT_VERIFIED"
        assert (await client.get("/api/auth/get-session")).json() is None


async def test_a_public_key_of_the_wrong_shape_is_a_refusal_in_plain_words(client: Client, app: Litestar) -> None:
    """py_webauthn raises IndexError for a COSE key that is a CBOR array: no 500, no library text."""
    await signed_in(client)
    answer = await register(client, authenticator(), public_key=encode_cbor([1]))
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "PASSKEY_REJECTED",
        "message": "The passkey could not be registered. Try again, or use another device or browser.",
    }
    assert await passkey_rows(app) == []


async def test_a_deeply_nested_client_data_is_unreadable(client: Client) -> None:
    await sign_in_options(client)
    nested = bytes_to_base64url(b"[" * 5000)
    body = {"response": {"id": "x", "response": {"clientDataJSON": nested}}}
    answer = await client.post("/api/auth/passkey/verify-authentication", json=body)
    assert answer.status_code == 400 and answer.json()["code"] == "INVALID_PASSKEY_CHALLENGE"
