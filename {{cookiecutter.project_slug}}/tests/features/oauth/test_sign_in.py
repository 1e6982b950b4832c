"""Sign-in and sign-up with a real OpenID Connect provider: new users, returning users, linking by email."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from litestar import Litestar
from sqlmodel import select

from app.core.audit import AuditLog
from app.features.oauth.client import ProviderClient
from app.features.oauth.models import OAuthAccount
from app.features.oauth.providers import Provider
from tests.conftest import Client, sign_up_api, signed_in, unique_email
from tests.features.oauth.conftest import approve, sign_in_with_provider, start
from tests.features.oauth.provider import CLIENT_ID, CLIENT_SECRET, OIDCProvider


async def session_user(client: Client) -> dict[str, object] | None:
    body = (await client.get("/api/auth/get-session")).json()
    return body["user"] if body else None


async def test_new_user_signs_up_with_the_provider_profile(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    idp.identity.email = unique_email("grace")
    url = await start(client, callbackURL="/welcome")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    done = await client.get(await approve(url))
    assert done.status_code == 303 and done.headers["location"] == "/welcome"
    user = await session_user(client)
    assert user is not None
    assert user["email"] == idp.identity.email and user["emailVerified"] is True
    assert user["name"] == "Grace Hopper" and user["image"] == idp.identity.picture
    # PKCE: the token request carried the verifier; the provider checked it against the challenge.
    assert idp.token_requests[-1]["code_verifier"]
    accounts = (await client.get("/api/auth/list-accounts")).json()
    assert [a["providerId"] for a in accounts] == ["oidc"]
    assert accounts[0]["accountId"] == idp.identity.sub
    assert "token" not in str(accounts).lower().replace("accountid", "")
    async with app.state.db.sessions() as db:
        link = (await db.exec(select(OAuthAccount))).one()
        assert link.issuer == idp.issuer and link.subject == idp.identity.sub
        assert link.access_token and link.access_token.startswith("v1.")  # sealed, not the token itself
        assert app.state.oauth.accounts.access_token(link) not in link.access_token
        events = [e.event for e in (await db.exec(select(AuditLog))).all()]
    assert {"user.created", "oauth.account_linked", "session.created"} <= set(events)


async def test_returning_user_is_found_by_subject_not_email(client: Client, idp: OIDCProvider) -> None:
    idp.identity.email = unique_email("first")
    await sign_in_with_provider(client)
    first = await session_user(client)
    await client.post("/api/auth/sign-out")
    idp.identity.email = unique_email("changed")  # the address changed at the provider
    done = await sign_in_with_provider(client)
    assert done.status_code == 303
    again = await session_user(client)
    assert again is not None and first is not None and again["id"] == first["id"]
    assert again["email"] == first["email"]


async def test_existing_verified_user_is_linked_when_the_provider_verified_the_email(
    client: Client, idp: OIDCProvider, app: Litestar
) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    async with app.state.db.sessions() as db:
        from app.auth.models import User

        user = (await db.exec(select(User).where(User.email == email))).one()
        user.email_verified = True
        db.add(user)
        await db.commit()
    idp.identity.email = email
    done = await sign_in_with_provider(client)
    assert done.status_code == 303
    me = await session_user(client)
    assert me is not None and me["email"] == email and me["name"] == "Ada Lovelace"
    providers = sorted(a["providerId"] for a in (await client.get("/api/auth/list-accounts")).json())
    assert providers == ["credential", "oidc"]


async def test_unverified_local_account_is_not_linked(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    email = unique_email("victim")
    await sign_up_api(client, email)  # never verified
    idp.identity.email = email  # the provider vouches for the address: still no automatic link
    done = await sign_in_with_provider(client)
    assert done.status_code == 409
    assert "already exists" in done.text and "link" in done.text and "account page" in done.text
    assert await session_user(client) is None
    async with app.state.db.sessions() as db:
        assert (await db.exec(select(OAuthAccount))).first() is None


async def test_unverified_provider_email_is_not_linked(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    async with app.state.db.sessions() as db:
        from app.auth.models import User

        user = (await db.exec(select(User).where(User.email == email))).one()
        user.email_verified = True
        db.add(user)
        await db.commit()
    idp.identity.email, idp.identity.email_verified = email, False
    done = await sign_in_with_provider(client)
    assert done.status_code == 409 and "already exists" in done.text
    assert await session_user(client) is None


async def test_unverified_provider_email_creates_no_account(client: Client, idp: OIDCProvider) -> None:
    idp.identity.email, idp.identity.email_verified = unique_email("unverified"), False
    done = await sign_in_with_provider(client)
    assert done.status_code == 400 and "has not confirmed your email address" in done.text
    assert await session_user(client) is None


async def test_sign_in_page_shows_the_provider_button(client: Client) -> None:
    page = await client.get("/sign-in")
    assert "Continue with Test IdP" in page.text
    assert 'href="/sign-in/social/oidc"' in page.text


async def test_sign_in_button_starts_the_flow(client: Client, idp: OIDCProvider) -> None:
    idp.identity.email = unique_email("button")
    started = await client.get("/sign-in/social/oidc?next=/account")
    assert started.status_code == 303 and started.headers["location"].startswith(idp.issuer + "/authorize?")
    done = await client.get(await approve(started.headers["location"]))
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert (await session_user(client)) is not None


async def test_a_start_from_another_site_is_refused(client: Client) -> None:
    response = await client.get("/sign-in/social/oidc", headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 400 and "sign-in page" in response.text


def github_shaped(app: Litestar, idp: OIDCProvider) -> None:
    """Point the app's GitHub provider at the test provider's GitHub-shaped API (plain OAuth 2.0, no ID token)."""
    base = idp.issuer
    github = Provider(
        "github",
        "GitHub",
        CLIENT_ID,
        CLIENT_SECRET,
        ("read:user", "user:email"),
        issuer="https://github.com",
        authorize_url=f"{base}/authorize",
        token_url=f"{base}/token",
        userinfo_url=f"{base}/github/user",
        emails_url=f"{base}/github/user/emails",
    )
    app.state.oauth.providers["github"] = github
    app.state.oauth.clients["github"] = ProviderClient(github, 5)
    idp.misbehave.iss_param = None  # GitHub does not send RFC 9207's iss


async def test_plain_oauth2_provider_reads_the_verified_primary_email(
    client: Client, idp: OIDCProvider, app: Litestar
) -> None:
    github_shaped(app, idp)
    idp.identity.email = unique_email("octo")
    response = await client.post("/api/auth/sign-in/social", json={"provider": "github"})
    url = response.json()["url"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and "nonce" not in query
    done = await client.get(await approve(url))
    assert done.status_code == 303
    user = await session_user(client)
    assert user is not None and user["email"] == idp.identity.email and user["emailVerified"] is True
    account = (await client.get("/api/auth/list-accounts")).json()[0]
    assert account["providerId"] == "github" and account["accountId"] == str(int(idp.identity.sub[:8], 16))


async def test_plain_oauth2_provider_with_unverified_primary_email_creates_nobody(
    client: Client, idp: OIDCProvider, app: Litestar
) -> None:
    github_shaped(app, idp)
    idp.identity.email, idp.identity.email_verified = unique_email("octo"), False
    response = await client.post("/api/auth/sign-in/social", json={"provider": "github"})
    done = await client.get(await approve(response.json()["url"]))
    assert done.status_code == 400 and "GitHub has not confirmed your email address" in done.text
    assert await session_user(client) is None


async def test_the_session_list_says_which_provider_signed_in(client: Client, idp: OIDCProvider) -> None:
    idp.identity.email = unique_email("sessions")
    await sign_in_with_provider(client)
    page = await client.get("/account/security")
    assert "Social sign-in (oidc)" in page.text
