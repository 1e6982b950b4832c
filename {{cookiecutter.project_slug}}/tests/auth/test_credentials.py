"""The credential extension point: a feature's authenticator, scopes, and what such a credential cannot reach.

A stand-in feature (header `x-test-key`, bearer values `tk_` + 7 characters) is added to the
real app, so the tests need no optional feature and exercise the real middleware and routes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.types import Scope

import app.asgi
from app.auth.credentials import Authenticator, Caller, CurrentCaller, require_scope
from app.core.errors import AppError
from app.features import ENABLED
from app.features.base import Feature
from app.settings import Settings
from tests.conftest import BASE_URL, Client, signed_in

GOOD = "tk_good12"
OWNER = uuid.uuid4()
calls: list[str] = []


class BadTestKey(AppError):
    code = "INVALID_TEST_KEY"
    status_code = 401
    default_message = "Bad test key."


async def authenticate(scope: Scope, credential: str) -> Caller:
    calls.append(credential)
    if credential != GOOD:
        raise BadTestKey()
    return Caller(OWNER, "bot@example.com", "Bot", "test-key", uuid.uuid4(), frozenset({"read"}))


def describe(caller: Caller) -> dict[str, Any]:
    return {"user": str(caller.user_id), "via": caller.via, "scopes": sorted(caller.scopes or []) or None}


@get("/api/test/read", guards=[require_scope("read")])
async def read(caller: CurrentCaller) -> dict[str, Any]:
    return describe(caller)


@get("/api/test/write", guards=[require_scope("read", "write")])
async def write(caller: CurrentCaller) -> dict[str, Any]:
    return describe(caller)


TEST_FEATURE = Feature(
    name="test_key",
    routes=[read, write],
    authenticators=[
        Authenticator(
            "test-key", authenticate, header="x-test-key", claims_bearer=lambda v: v[:3] == "tk_" and len(v) == 9
        )
    ],
)


@pytest.fixture
async def keyed_client(settings: Settings) -> AsyncIterator[Client]:
    application: Litestar = app.asgi.create_app(settings, features=(*ENABLED, TEST_FEATURE))
    calls.clear()
    async with Client(app=application, base_url=BASE_URL) as client:
        yield client
    await application.state.mailer.drain()
    await application.state.db.dispose()


async def test_header_or_claimed_bearer_authenticates_with_its_scopes(keyed_client: Client) -> None:
    for headers in ({"x-test-key": GOOD}, {"authorization": f"Bearer {GOOD}"}):
        response = await keyed_client.get("/api/test/read", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"user": str(OWNER), "via": "test-key", "scopes": ["read"]}
        denied = await keyed_client.get("/api/test/write", headers=headers)
        assert denied.status_code == 403 and denied.json()["code"] == "INSUFFICIENT_SCOPE"
        assert "write" in denied.json()["message"]


async def test_a_refused_credential_is_an_error_not_an_anonymous_request(keyed_client: Client) -> None:
    response = await keyed_client.get("/api/test/read", headers={"x-test-key": "tk_wrong1"})
    assert response.status_code == 401 and response.json()["code"] == "INVALID_TEST_KEY"
    anonymous = await keyed_client.get("/api/test/read")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHORIZED"


async def test_a_credential_never_reaches_session_routes_even_beside_a_session_cookie(keyed_client: Client) -> None:
    keyed_client.headers["origin"] = BASE_URL
    await signed_in(keyed_client)
    assert (await keyed_client.get("/api/auth/get-session")).json() is not None
    key = {"x-test-key": GOOD}
    assert (await keyed_client.get("/api/auth/get-session", headers=key)).json() is None
    update = await keyed_client.post("/api/auth/update-user", json={"name": "Mallory"}, headers=key)
    assert update.status_code == 401
    assert (await keyed_client.get("/account", headers=key)).status_code == 303  # to sign-in
    assert (await keyed_client.get("/api/test/read", headers=key)).json()["scopes"] == ["read"]
    assert (await keyed_client.get("/api/auth/get-session")).json()["user"]["name"] == "Ada Lovelace"


async def test_a_session_passes_every_scope_and_the_authenticator_is_not_called_for_it(keyed_client: Client) -> None:
    keyed_client.headers["origin"] = BASE_URL
    await signed_in(keyed_client)
    response = await keyed_client.get("/api/test/write")
    assert response.status_code == 200 and response.json()["via"] == "session"
    assert response.json()["scopes"] is None
    await keyed_client.get("/api/auth/get-session")
    await keyed_client.get("/sign-in")
    assert calls == []


async def test_bearer_session_tokens_are_not_claimed(keyed_client: Client) -> None:
    keyed_client.headers["origin"] = BASE_URL
    email = await signed_in(keyed_client)
    token = keyed_client.cookies["session"]
    keyed_client.cookies.clear()
    response = await keyed_client.get("/api/auth/get-session", headers={"authorization": f"Bearer {token}"})
    assert response.json()["user"]["email"] == email
    assert calls == []
