"""HTML pages: protection with a way back, forms that keep what was typed, htmx-friendly errors."""

from __future__ import annotations

from tests.conftest import STRONG_PASSWORD, Client, Inbox, signed_in, unique_email


async def test_protected_pages_redirect_to_sign_in_and_back(client: Client) -> None:
    response = await client.get("/account/security?tab=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faccount%2Fsecurity%3Ftab%3D1"
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    done = await client.submit(
        "/sign-in", {"email": email, "password": STRONG_PASSWORD, "next": "/account/security?tab=1"}
    )
    assert done.headers["location"] == "/account/security?tab=1"


async def test_wrong_password_keeps_the_email_but_never_the_password(client: Client) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    response = await client.submit("/sign-in", {"email": email, "password": "a wrong password 123"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Invalid email or password." in response.text
    assert f'value="{email}"' in response.text
    assert "a wrong password 123" not in response.text


async def test_htmx_gets_a_redirect_header_instead_of_a_303(client: Client) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    response = await client.submit(
        "/sign-in", {"email": email, "password": STRONG_PASSWORD}, headers={"hx-request": "true"}
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/"


async def test_sign_up_form_errors_are_inline(client: Client) -> None:
    response = await client.submit("/sign-up", {"name": "Ada", "email": "nope", "password": STRONG_PASSWORD})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "Enter a valid email address." in response.text
    assert 'value="Ada"' in response.text


async def test_sign_up_shows_every_field_error_at_once(client: Client) -> None:
    """Not one per round trip: the password would have to be typed again for each."""
    response = await client.submit("/sign-up", {"name": " ", "email": "nope", "password": "short"})
    assert response.status_code == 422
    assert response.text.count('aria-invalid="true"') == 3
    assert "Enter your name" in response.text and "Enter a valid email address." in response.text
    assert "at least" in response.text.lower()
    assert response.text.count(" autofocus") == 1  # the first invalid field only


async def test_names_are_escaped(client: Client) -> None:
    await signed_in(client)
    await client.post("/api/auth/update-user", json={"name": "<script>alert(1)</script>"})
    page = await client.get("/account")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_full_page_flow_verify_and_reset(client: Client, inbox: Inbox) -> None:
    email = unique_email()
    page = await client.submit("/sign-up", {"name": "Ada", "email": email, "password": STRONG_PASSWORD})
    assert page.status_code == 200 and email in page.text
    link = (await inbox.last(email)).link("/verify-email")
    verified = await client.get(link.replace(str(client.base_url).rstrip("/"), ""))
    assert verified.status_code == 200
    forgot = await client.submit("/forgot-password", {"email": email})
    assert forgot.status_code == 200
    reset_link = (await inbox.last(email)).link("/reset-password")
    path = reset_link.replace(str(client.base_url).rstrip("/"), "")
    token = path.split("token=")[1]
    form_page = await client.get(path)
    assert form_page.status_code == 200
    weak = await client.submit("/reset-password", {"token": token, "password": "password1"}, page=path)
    assert weak.status_code == 422  # the link stays usable for another try
    done = await client.submit("/reset-password", {"token": token, "password": "a brand new passphrase"}, page=path)
    assert done.status_code == 303 and done.headers["location"] == "/sign-in"
    signed = await client.submit("/sign-in", {"email": email, "password": "a brand new passphrase"})
    assert signed.status_code == 303
    home = await client.get("/")
    assert home.status_code == 200 and "Ada" in home.text
    out = await client.submit("/sign-out", {}, page="/")
    assert out.status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_pages_render(client: Client) -> None:
    for path in ["/sign-in", "/sign-up", "/forgot-password", "/reset-password?token=nope"]:
        response = await client.get(path)
        assert response.status_code in (200, 400), path
        assert "<html" in response.text
    await signed_in(client)
    for path in ["/", "/account", "/account/security"]:
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_a_boosted_form_answered_with_a_page_keeps_the_address_bar(client: Client) -> None:
    """htmx would push the form's POST-only address: a reload would then GET it (405)."""
    await signed_in(client)
    boosted = {"hx-request": "true", "hx-boosted": "true"}
    form = {"current_password": "not my password 1", "new_password": "another long passphrase 77"}
    answer = await client.submit("/account/password", form, page="/account/security", headers=boosted)
    assert answer.status_code == 422 and answer.headers["hx-push-url"] == "false"
    assert (await client.get("/account/password")).status_code == 405  # why: the address is POST only
    navigation = await client.get("/account/security", headers=boosted)
    assert navigation.status_code == 200 and "hx-push-url" not in navigation.headers
