"""The last way to sign in counts passkeys and providers alike (pruned with either feature)."""

from __future__ import annotations

from litestar import Litestar

from tests.conftest import Client, unique_email
from tests.features.oauth.conftest import sign_in_with_provider
from tests.features.oauth.provider import OIDCProvider
from tests.features.passkeys.helpers import authenticator, register


async def test_a_provider_can_go_while_a_passkey_remains_but_not_both(
    client: Client, idp: OIDCProvider, app: Litestar
) -> None:
    idp.identity.email = unique_email("social")
    assert (await sign_in_with_provider(client)).status_code == 303  # a new user with no password
    device = authenticator()
    await register(client, device)
    passkeys = (await client.get("/api/auth/passkey/list-user-passkeys")).json()
    assert len(passkeys) == 1
    # The sign-in methods page counts it too: not "your only way to sign in", and it says where it is.
    methods = await client.get("/account/connections")
    assert methods.status_code == 200 and "only way to sign in" not in methods.text
    assert "Passkey" in methods.text and 'href="/account/security"' in methods.text
    # Two ways: the provider may go, the passkey stays ...
    unlinked = await client.post("/api/auth/unlink-account", json={"providerId": "oidc"})
    assert unlinked.status_code == 200, unlinked.text
    # ... and then the passkey is the last way, which cannot go.
    refused = await client.post("/api/auth/passkey/delete-passkey", json={"id": passkeys[0]["id"]})
    assert refused.status_code == 409 and refused.json()["code"] == "LAST_SIGN_IN_METHOD"
