"""The token endpoint, the JWKS and the signing keys, in process: claims, sealing, rotation, audit."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col, select

from app.core.audit import AuditLog
from app.core.crypto import DecryptionError, SecretBox
from app.core.db import utcnow
from app.core.events import RequestMeta
from app.features.jwt.keys import SEAL_PURPOSE
from app.features.jwt.models import JwtKey
from app.features.jwt.service import KEY_ROTATED, TOKEN_ISSUED, JwtService, service_for
from app.features.jwt.settings import JwtSettings
from tests.conftest import BASE_URL, AppFactory, Client, settings_problems, signed_in

PUBLIC_MEMBERS: dict[str, set[str]] = {"OKP": {"x"}, "EC": {"x", "y"}, "RSA": {"n", "e"}}


async def token_for(client: Client) -> str:
    response = await client.get("/api/auth/token")
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def jwks(client: Client) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/auth/jwks")
    assert response.status_code == 200
    return {key["kid"]: key for key in response.json()["keys"]}


async def verify(client: Client, token: str, audience: str = BASE_URL) -> dict[str, Any]:
    """Check a token as a downstream service would, against the JWKS served now."""
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWK((await jwks(client))[header["kid"]])
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=[header["alg"]], audience=audience, issuer=BASE_URL)
    return claims


async def stored_keys(app: Litestar) -> list[JwtKey]:
    async with app.state.db.sessions() as db:
        return list((await db.exec(select(JwtKey).order_by(col(JwtKey.created_at)))).all())


async def audit(app: Litestar, event: str) -> list[AuditLog]:
    async with app.state.db.sessions() as db:
        query = select(AuditLog).where(AuditLog.event == event).order_by(col(AuditLog.created_at))
        return list((await db.exec(query)).all())


async def test_a_token_needs_a_session(client: Client) -> None:
    response = await client.get("/api/auth/token")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


async def test_the_token_names_the_user_and_little_else(client: Client) -> None:
    await signed_in(client)
    user_id = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    response = await client.get("/api/auth/token")
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["token"]
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": header["kid"]}
    claims = await verify(client, token)
    assert set(claims) == {"iss", "aud", "sub", "iat", "exp", "jti"}
    assert claims["sub"] == user_id and claims["iss"] == claims["aud"] == BASE_URL
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_jwks_publishes_public_keys_only(client: Client) -> None:
    keys = await jwks(client)
    assert len(keys) == 2  # the signing key and the one published for the next rotation
    for kid, key in keys.items():
        assert key["kid"] == kid and key["alg"] == "EdDSA" and key["use"] == "sig"
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519"
        assert set(key) == {"kty", "crv", "kid", "alg", "use"} | PUBLIC_MEMBERS["OKP"]


async def test_private_keys_are_sealed_at_rest(client: Client, app: Litestar) -> None:
    await jwks(client)
    secret = app.state.settings.secrets.secret_key
    for row in await stored_keys(app):
        assert row.private_key and row.private_key.startswith("v1.") and "PRIVATE" not in row.private_key
        assert SecretBox(secret, SEAL_PURPOSE).unseal(row.private_key, context=row.id)
        with pytest.raises(DecryptionError):
            SecretBox("another secret key of enough length", SEAL_PURPOSE).unseal(row.private_key, context=row.id)
        with pytest.raises(DecryptionError):
            SecretBox(secret, SEAL_PURPOSE).unseal(row.private_key, context="another-kid")


async def test_scheduled_rotation_signs_with_the_published_key_and_keeps_the_old_one(
    client: Client, app: Litestar
) -> None:
    await signed_in(client)
    first = await token_for(client)
    old_kid = jwt.get_unverified_header(first)["kid"]
    (upcoming,) = set(await jwks(client)) - {old_kid}
    interval = service_for(app).settings.rotation_interval
    async with app.state.db.sessions() as db:
        aged = utcnow() - timedelta(seconds=interval + 1)
        await db.exec(update(JwtKey).where(col(JwtKey.id) == old_kid).values(activated_at=aged))
        await db.commit()

    second = await token_for(client)
    assert jwt.get_unverified_header(second)["kid"] == upcoming  # verifiers already had it
    published = await jwks(client)
    assert len(published) == 3 and {old_kid, upcoming} <= set(published)
    assert (await verify(client, first))["jti"] != (await verify(client, second))["jti"]
    retired = next(row for row in await stored_keys(app) if row.id == old_kid)
    assert retired.private_key is None  # a retired key can verify, never sign again
    assert retired.expires_at and retired.expires_at - retired.retired_at == timedelta(days=1)  # type: ignore[operator]
    entry = (await audit(app, KEY_ROTATED))[-1]
    assert entry.target_id == upcoming and entry.data["reason"] == "scheduled" and entry.data["retired"] == [old_kid]

    async with app.state.db.sessions() as db:  # the grace period is over
        await db.exec(update(JwtKey).where(col(JwtKey.id) == old_kid).values(expires_at=utcnow()))
        await db.commit()
    assert old_kid not in await jwks(client)
    with pytest.raises(KeyError):
        await verify(client, first)


async def test_only_one_of_several_instances_rotates(client: Client, app: Litestar) -> None:
    await signed_in(client)
    kid = jwt.get_unverified_header(await token_for(client))["kid"]
    async with app.state.db.sessions() as db:
        assert await service_for(app).rotate(db, RequestMeta(), "scheduled", expected="someone-elses-kid") is None
    assert jwt.get_unverified_header(await token_for(client))["kid"] == kid
    assert len(await stored_keys(app)) == 2


async def test_a_rotated_secret_key_keeps_the_signing_key_through_its_fallback(make_app: AppFactory) -> None:
    old, new = "first-secret-" + "o" * 40, "second-secret-" + "n" * 40
    before = make_app(secrets={"secret_key": old})
    async with Client(before) as client:
        client.headers["origin"] = BASE_URL
        await signed_in(client)
        first = await token_for(client)
        kid = jwt.get_unverified_header(first)["kid"]
        cookies = client.cookies

    during = make_app(secrets={"secret_key": new, "secret_key_fallbacks": [old]})
    async with Client(during) as client:
        client.cookies = cookies
        assert jwt.get_unverified_header(await token_for(client))["kid"] == kid

    after = make_app(secrets={"secret_key": new})  # the fallback removed before any rotation
    async with Client(after) as client:
        client.cookies = cookies
        token = await token_for(client)
        new_kid = jwt.get_unverified_header(token)["kid"]
        assert new_kid != kid
        await verify(client, first)  # tokens signed before still verify: the public key is untouched
        await verify(client, token)
    entry = (await audit(after, KEY_ROTATED))[-1]
    assert entry.data["reason"] == "secret_key_changed" and entry.data["retired"] == [kid]


@pytest.mark.parametrize(("algorithm", "kty"), [("ES256", "EC"), ("RS256", "RSA")])
async def test_changing_the_algorithm_rotates_to_a_key_of_that_kind(
    client: Client, app: Litestar, algorithm: str, kty: str
) -> None:
    await signed_in(client)
    first = await token_for(client)
    app.state.jwt = JwtService(app.state.auth, JwtSettings(algorithm=algorithm))
    second = await token_for(client)
    assert jwt.get_unverified_header(second)["alg"] == algorithm
    key = (await jwks(client))[jwt.get_unverified_header(second)["kid"]]
    curve = set() if kty == "RSA" else {"crv"}
    assert key["kty"] == kty and set(key) == {"kty", "kid", "alg", "use"} | curve | PUBLIC_MEMBERS[kty]
    await verify(client, first)
    await verify(client, second)


async def test_issuer_and_audience_come_from_the_settings(client: Client, app: Litestar) -> None:
    app.state.jwt = JwtService(app.state.auth, JwtSettings(issuer=BASE_URL, audience="reports-api"))
    await signed_in(client)
    claims = await verify(client, await token_for(client), audience="reports-api")
    assert claims["aud"] == "reports-api"


async def test_issuance_and_rotation_are_audited_without_secrets(client: Client, app: Litestar) -> None:
    await signed_in(client)
    user_id = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    token = await token_for(client)
    async with app.state.db.sessions() as db:
        rotation = await service_for(app).rotate(db, RequestMeta(), "manual")
    assert rotation is not None
    (issued,) = await audit(app, TOKEN_ISSUED)
    claims = await verify(client, token)
    assert str(issued.actor_id) == user_id and issued.target_id == user_id
    assert issued.data == {"kid": rotation.retired[0], "jti": claims["jti"], "expires_at": issued.data["expires_at"]}
    rotated = await audit(app, KEY_ROTATED)
    assert [entry.data["reason"] for entry in rotated] == ["first_key", "manual"]
    recorded = json.dumps([entry.data for entry in [issued, *rotated]])
    assert token.split(".")[2] not in recorded
    for row in await stored_keys(app):
        assert row.private_key is None or row.private_key not in recorded


def test_settings_problems_are_reported() -> None:
    assert settings_problems() == []
    problems = "\n".join(settings_problems(jwt={"grace_period": 300, "algorithm": "HS256"}))
    assert "JWT_ALGORITHM" in problems
    assert settings_problems(jwt={"grace_period": 300, "algorithm": "EdDSA"}) == [
        "JWT_GRACE_PERIOD must be at least JWT_TTL: a retired key has to verify the tokens it signed"
    ]
