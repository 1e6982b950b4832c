"""What an attacker tries at the callback, and a provider that lies: every one is refused, nobody signed in."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.core.audit import AuditLog
from app.core.db import utcnow
from app.features.oauth.models import OAuthAccount, OAuthState
from tests.conftest import BASE_URL, Client, sign_up_api, unique_email
from tests.features.oauth.conftest import approve, sign_in_with_provider, start
from tests.features.oauth.provider import OIDCProvider


async def signed_in_user(client: Client) -> object:
    return (await client.get("/api/auth/get-session")).json()


async def refused(client: Client, path: str, status: int = 400) -> str:
    response = await client.get(path)
    assert response.status_code == status, response.text
    assert "set-cookie" not in response.headers or "session" not in response.headers["set-cookie"]
    assert await signed_in_user(client) is None
    return response.text


async def test_missing_state_is_refused(client: Client, idp: OIDCProvider) -> None:
    callback = await approve(await start(client))
    without_state = callback.replace("state=", "x=")
    assert "expired or was already used" in await refused(client, without_state)


async def test_mismatched_state_is_refused(client: Client, idp: OIDCProvider) -> None:
    callback = await approve(await start(client))
    state = parse_qs(urlsplit(callback).query)["state"][0]
    assert "expired or was already used" in await refused(client, callback.replace(state, state[:-2] + "xx"))


async def test_state_is_single_use(client: Client, idp: OIDCProvider) -> None:
    idp.identity.email = unique_email("once")
    callback = await approve(await start(client))
    assert (await client.get(callback)).status_code == 303
    await client.post("/api/auth/sign-out")
    assert "already used" in await refused(client, callback)


async def test_state_from_another_browser_is_refused(app: Litestar, idp: OIDCProvider) -> None:
    """The attacker starts a sign-in, approves at the provider as themselves and makes the victim open the callback."""
    async with Client(app) as attacker, Client(app) as victim:
        attacker.headers["origin"] = victim.headers["origin"] = BASE_URL
        callback = await approve(await start(attacker))
        await start(victim)  # the victim even has a binding cookie of their own
        assert "started in another browser" in await refused(victim, callback)
    async with app.state.db.sessions() as db:
        reasons = [e.data.get("reason") for e in (await db.exec(select(AuditLog))).all()]
    assert "state-other-browser" in reasons


async def test_expired_state_is_refused(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    callback = await approve(await start(client))
    async with app.state.db.sessions() as db:
        await db.exec(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    assert "expired" in await refused(client, callback)


@pytest.mark.parametrize(
    ("switch", "value", "words"),
    [
        ("id_token_alg", "HS256", "not validly signed"),
        ("id_token_alg", "none", "not validly signed"),
        ("id_token_alg", "RS256-foreign-key", "not validly signed"),
        ("nonce", "another-nonce", "nonce"),
        ("iss", "https://evil.example", "iss"),
        ("aud", "another-client", "aud"),
        ("drop_id_token", True, "did not return an ID token"),
    ],
)
async def test_a_bad_id_token_is_refused(
    client: Client, idp: OIDCProvider, switch: str, value: object, words: str
) -> None:
    idp.identity.email = unique_email("forged")
    setattr(idp.misbehave, switch, value)
    response = await sign_in_with_provider(client)
    assert response.status_code == 400 and words in response.text
    assert await signed_in_user(client) is None


@pytest.mark.parametrize("iss_param", ["https://evil.example", None])
async def test_authorization_response_from_another_issuer_is_refused(
    client: Client, idp: OIDCProvider, iss_param: str | None
) -> None:
    """RFC 9207: the provider announces `iss` in its answers; a different one (or none) is a mix-up."""
    idp.misbehave.iss_param = iss_param
    response = await sign_in_with_provider(client)
    assert response.status_code == 400 and "(iss)" in response.text
    assert await signed_in_user(client) is None


@pytest.mark.parametrize(
    "target", ["javascript:alert(1)", "https://evil.example/x", "//evil.example", "/\\evil.example"]
)
async def test_foreign_or_script_redirect_targets_are_replaced(client: Client, idp: OIDCProvider, target: str) -> None:
    idp.identity.email = unique_email("redirect")
    response = await sign_in_with_provider(client, callbackURL=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_error_callback_url_gets_the_code(client: Client, idp: OIDCProvider) -> None:
    url = await start(client, errorCallbackURL="/sign-in/problem")
    response = await client.get(await approve(url, decision="deny"))
    assert response.status_code == 303 and response.headers["location"] == "/sign-in/problem?error=OAUTH_FAILED"


async def test_denied_consent_is_a_clear_refusal(client: Client, idp: OIDCProvider) -> None:
    text = await refused(client, await approve(await start(client), decision="deny"))
    assert "did not sign you in (access_denied)" in text


async def test_unknown_provider_is_404(client: Client) -> None:
    response = await client.post("/api/auth/sign-in/social", json={"provider": "myspace"})
    assert response.status_code == 404 and response.json()["code"] == "PROVIDER_NOT_FOUND"
    assert (await client.get("/api/auth/callback/myspace?state=x&code=y")).status_code == 404


async def test_malformed_body_is_a_clear_error(client: Client) -> None:
    response = await client.post("/api/auth/sign-in/social", json={"callbackURL": "/"})
    assert response.status_code == 400
    assert response.json()["code"] in ("VALIDATION_ERROR", "BAD_REQUEST")


async def test_form_post_callback_becomes_a_top_level_get(client: Client, idp: OIDCProvider) -> None:
    callback = await approve(await start(client))
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    moved = await client.post("/api/auth/callback/oidc", data=params)
    assert moved.status_code == 303
    assert parse_qs(urlsplit(moved.headers["location"]).query)["state"] == [params["state"]]
    assert await signed_in_user(client) is None  # the POST alone does nothing


async def test_state_of_another_provider_is_refused(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    from tests.features.oauth.test_sign_in import github_shaped

    github_shaped(app, idp)
    callback = await approve(await start(client))  # started for the OIDC provider
    assert "for another provider" in await refused(client, callback.replace("/callback/oidc", "/callback/github"))


async def test_not_linked_goes_to_the_error_callback_with_its_code(client: Client, idp: OIDCProvider) -> None:
    email = unique_email("victim")
    await sign_up_api(client, email)
    idp.identity.email = email
    url = await start(client, errorCallbackURL="/oops")
    response = await client.get(await approve(url))
    assert response.status_code == 303 and response.headers["location"] == "/oops?error=ACCOUNT_NOT_LINKED"
    assert await signed_in_user(client) is None


async def test_a_provider_that_does_not_answer_is_a_clear_error(client: Client, app: Litestar) -> None:
    from app.features.oauth.client import ProviderClient
    from app.features.oauth.providers import Provider

    down = Provider("oidc", "Down IdP", "id", "secret", ("openid",), discovery_url="http://127.0.0.1:9/.well-known/x")
    app.state.oauth.providers["oidc"] = down
    app.state.oauth.clients["oidc"] = ProviderClient(down, 2)
    response = await client.post("/api/auth/sign-in/social", json={"provider": "oidc"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "OAUTH_FAILED",
        "message": "Down IdP did not answer (discovery). Try again later.",
    }
    page = await client.get("/sign-in/social/oidc")
    assert page.status_code == 400 and "Down IdP did not answer" in page.text


async def test_provider_error_text_is_never_shown_as_is(client: Client, idp: OIDCProvider) -> None:
    callback = await approve(await start(client), decision="deny")
    text = await refused(client, callback.replace("access_denied", "Call%20us%20at%20555-0100"))
    assert "555-0100" not in text and "did not sign you in (error)" in text


@pytest.mark.parametrize("subject", ["x" * 300, "a\u0000b"])
async def test_a_subject_no_account_can_be_keyed_by_is_a_refusal(
    client: Client, idp: OIDCProvider, subject: str
) -> None:
    """The (issuer, subject) key is a column of 255: an odd subject refuses the sign-in, not the server."""
    idp.identity.email = unique_email("odd-subject")
    idp.identity.sub = subject
    response = await sign_in_with_provider(client)
    assert response.status_code == 400 and "did not say who you are" in response.text
    assert await signed_in_user(client) is None


async def test_an_absurd_token_lifetime_is_stored_as_unknown(client: Client, idp: OIDCProvider, app: Litestar) -> None:
    idp.identity.email = unique_email("lifetime")
    idp.misbehave.expires_in = 10**15  # past what a datetime can hold: was an OverflowError
    response = await sign_in_with_provider(client)
    assert response.status_code == 303
    assert (await signed_in_user(client)) is not None
    async with app.state.db.sessions() as db:
        links = (await db.exec(select(OAuthAccount))).all()
    assert [link.expires_at for link in links] == [None]
