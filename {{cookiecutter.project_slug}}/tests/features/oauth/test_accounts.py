"""Linking and unlinking providers from the account page and the JSON API; tokens stay on the server."""

from __future__ import annotations

from datetime import timedelta

import httpx
from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.auth.models import Session
from app.core.db import utcnow
from app.features.oauth.models import OAuthAccount
from tests.conftest import BASE_URL, Client, signed_in, unique_email
from tests.features.oauth.conftest import approve, sign_in_with_provider
from tests.features.oauth.provider import OIDCProvider


async def link_from_account_page(client: Client) -> str:
    started = await client.get("/account/connections/oidc/link")
    assert started.status_code == 303, started.text
    return await approve(started.headers["location"])


async def test_link_and_unlink_from_the_account_page(client: Client, idp: OIDCProvider) -> None:
    await signed_in(client)
    idp.identity.email = unique_email("elsewhere")  # a different address: explicit linking does not care
    done = await client.get(await link_from_account_page(client))
    assert done.status_code == 303 and done.headers["location"] == "/account/connections"
    page = await client.get("/account/connections")
    assert "Test IdP" in page.text and idp.identity.email in page.text
    accounts = (await client.get("/api/auth/list-accounts")).json()
    assert sorted(a["providerId"] for a in accounts) == ["credential", "oidc"]
    gone = await client.submit(
        "/account/connections/oidc/unlink", {"account_id": idp.identity.sub}, page="/account/connections"
    )
    assert gone.status_code == 303
    assert [a["providerId"] for a in (await client.get("/api/auth/list-accounts")).json()] == ["credential"]


async def test_the_last_sign_in_method_cannot_be_unlinked(client: Client, idp: OIDCProvider) -> None:
    idp.identity.email = unique_email("only")
    await sign_in_with_provider(client)
    response = await client.post("/api/auth/unlink-account", json={"providerId": "oidc"})
    assert response.status_code == 400 and response.json()["code"] == "FAILED_TO_UNLINK_LAST_ACCOUNT"
    page = await client.submit("/account/connections/oidc/unlink", {}, page="/account/connections")
    assert page.status_code == 400 and "only way to sign in" in page.text
    assert len((await client.get("/api/auth/list-accounts")).json()) == 1


async def test_linking_needs_a_fresh_session(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    await signed_in(client)
    async with app.state.db.sessions() as db:
        await db.exec(update(Session).values(authenticated_at=utcnow() - timedelta(hours=2)))
        await db.commit()
    response = await client.post("/api/auth/link-social", json={"provider": "oidc"})
    assert response.status_code == 403 and response.json()["code"] == "SESSION_NOT_FRESH"
    page = await client.get("/account/connections/oidc/link")
    assert page.status_code == 303 and page.headers["location"].startswith("/reauthenticate")


async def test_link_through_the_json_api(client: Client, idp: OIDCProvider) -> None:
    await signed_in(client)
    response = await client.post("/api/auth/link-social", json={"provider": "oidc", "callbackURL": "/done"})
    assert response.status_code == 200
    done = await client.get(await approve(response.json()["url"]))
    assert done.status_code == 303 and done.headers["location"] == "/done"
    assert "oidc" in [a["providerId"] for a in (await client.get("/api/auth/list-accounts")).json()]


async def test_an_identity_linked_to_someone_else_cannot_be_linked_again(app: Litestar, idp: OIDCProvider) -> None:
    async with Client(app) as owner, Client(app) as other:
        owner.headers["origin"] = other.headers["origin"] = BASE_URL
        idp.identity.email = unique_email("owner")
        await sign_in_with_provider(owner)
        await signed_in(other)
        response = await other.get(await link_from_account_page(other))
        assert response.status_code == 400 and "already linked to another user" in response.text


async def test_linking_finishes_only_for_the_user_who_started_it(app: Litestar, idp: OIDCProvider) -> None:
    """A link callback opened after signing out (or as someone else) links nothing."""
    async with Client(app) as browser:
        browser.headers["origin"] = BASE_URL
        await signed_in(browser)
        callback = await link_from_account_page(browser)
        await browser.post("/api/auth/sign-out")
        response = await browser.get(callback)
        assert response.status_code == 400 and "Sign in again" in response.text
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(OAuthAccount))).first() is None


async def test_provider_tokens_never_reach_the_browser(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    idp.identity.email = unique_email("tokens")
    done = await sign_in_with_provider(client)
    async with app.state.db.sessions() as db:
        link = (await db.exec(select(OAuthAccount))).one()
        access = app.state.oauth.accounts.access_token(link)
    assert access and access in idp.tokens
    pages = [done, await client.get("/account/connections"), await client.get("/api/auth/list-accounts")]
    pages.append(await client.get("/api/auth/get-session"))
    for response in pages:
        assert access not in response.text and access not in str(response.headers)


async def test_an_expired_access_token_is_renewed_with_the_refresh_token(
    client: Client, idp: OIDCProvider, app: Litestar
) -> None:
    idp.identity.email = unique_email("refresh")
    await sign_in_with_provider(client)
    service = app.state.oauth
    async with app.state.db.sessions() as db:
        link = (await db.exec(select(OAuthAccount))).one()
        first = service.accounts.access_token(link)
        assert service.accounts.refresh_token(link)  # kept, sealed
        assert await service.access_token(db, link.user_id, "oidc") == first  # still valid: unchanged
        link.expires_at = utcnow() - timedelta(seconds=1)
        db.add(link)
        await db.commit()
        renewed = await service.access_token(db, link.user_id, "oidc")
    assert renewed and renewed != first and renewed in idp.tokens and first not in idp.tokens
    async with httpx.AsyncClient() as api:  # the renewed token works at the provider's API
        answer = await api.get(f"{idp.issuer}/userinfo", headers={"authorization": f"Bearer {renewed}"})
    assert answer.status_code == 200 and answer.json()["sub"] == idp.identity.sub
