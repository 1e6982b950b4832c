"""Fixtures of the OAuth tests: the real OpenID Connect provider and an app configured for it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from litestar import Litestar

from app.features.oauth.client import tls_context
from tests.conftest import BASE_URL, AppFactory, Client
from tests.features.oauth.provider import CLIENT_ID, CLIENT_SECRET, LABEL, OIDCProvider


@pytest.fixture(scope="session")
def idp() -> Iterator[OIDCProvider]:
    """The identity provider, on 127.0.0.1 for the whole run."""
    provider = OIDCProvider()
    provider.start()
    yield provider
    provider.stop()


def configure(idp: OIDCProvider) -> dict[str, str]:
    """OAUTH_* settings that switch the generic OIDC provider on, pointed at the test provider."""
    return {
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_discovery_url": idp.discovery_url,
        "oidc_name": LABEL,
    }


@pytest.fixture
def app(make_app: AppFactory, idp: OIDCProvider) -> Litestar:
    """The app with the test provider switched on (replaces the project's `app`)."""
    idp.reset()
    return make_app(oauth=configure(idp))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[Client]:
    async with Client(app=app, base_url=BASE_URL) as test_client:
        test_client.headers["origin"] = BASE_URL
        yield test_client


async def start(client: Client, **body: Any) -> str:
    """POST /api/auth/sign-in/social; the provider URL."""
    response = await client.post("/api/auth/sign-in/social", json={"provider": "oidc", **body})
    assert response.status_code == 200, response.text
    assert response.json()["redirect"] is True
    url: str = response.json()["url"]
    return url


async def approve(url: str, decision: str = "approve") -> str:
    """Act as the person at the provider: open the consent page, press Approve; the redirect back (a path)."""
    async with httpx.AsyncClient(follow_redirects=False, verify=tls_context()) as browser:
        consent = await browser.get(url)
        assert consent.status_code == 200, consent.text
        action = re.search(r'<form method="post" action="([^"]+)"', consent.text)
        assert action is not None
        origin = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
        target = origin + action.group(1).replace("&amp;", "&")
        answer = await browser.post(target, data={"decision": decision})
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
    assert location.startswith(BASE_URL)
    return location[len(BASE_URL) :]


async def sign_in_with_provider(client: Client, **body: Any) -> httpx.Response:
    """The whole round trip: start, consent, callback. The callback's response."""
    callback = await approve(await start(client, **body))
    return await client.get(callback)
