"""Security baseline as an attacker sees it: headers, origin checks, CSRF, redirects, body limits."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar, get

from app.core.redirects import safe_redirect
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, Client, sign_up_api, signed_in, unique_email

EVIL = "https://evil.example"


def assert_security_headers(response: httpx.Response) -> None:
    """Pages get the whole set; a JSON answer a CSP that allows nothing (it loads nothing, is never framed)."""
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    if response.headers["content-type"].startswith("application/json"):
        assert csp == "default-src 'none'; frame-ancestors 'none'"
        return
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


async def test_headers_on_ok_not_found_and_method_not_allowed(client: Client) -> None:
    responses = [
        await client.get("/health"),
        await client.get("/no/such/page"),
        await client.get("/no/such/page", headers={"accept": "text/html"}),
        await client.delete("/health"),
        await client.get("/sign-in"),
        await client.get("/api/auth/get-session"),
    ]
    for response in responses:
        assert_security_headers(response)
    kinds = {r.headers["content-type"].split(";")[0] for r in responses}
    assert kinds == {"application/json", "text/html"}  # both sets were checked
    assert "strict-transport-security" not in (await client.get("/health")).headers


async def test_not_found_is_a_page_for_browsers_and_json_for_the_api(client: Client) -> None:
    page = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = await client.get("/api/auth/no-such-endpoint")
    assert api.status_code == 404
    assert api.json()["code"] == "NOT_FOUND"


async def test_unhandled_error_is_a_clean_500_with_headers(app: Litestar, client: Client) -> None:
    @get("/api/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret detail that must not leak")

    app.register(boom)
    response = await client.get("/api/boom")
    assert response.status_code == 500
    assert response.json() == {"code": "INTERNAL_SERVER_ERROR", "message": "Something went wrong on our side."}
    assert "secret detail" not in response.text
    assert_security_headers(response)


async def test_auth_pages_and_api_are_not_cached(client: Client) -> None:
    for path in ["/sign-in", "/sign-up", "/api/auth/get-session", "/forgot-password"]:
        assert (await client.get(path)).headers["cache-control"] == "no-store", path


async def test_hsts_and_host_cookies_in_production(make_app: AppFactory) -> None:
    app = make_app(
        app={"env": "production", "base_url": "https://app.example.com"}, auth={"allow_unverified_sign_in": True}
    )
    async with Client(app=app, base_url="https://app.example.com") as client:
        client.headers["origin"] = "https://app.example.com"
        response = await client.get("/health")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        email = unique_email()
        await sign_up_api(client, email)
        response = await client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 200
        cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("__Host-session="))
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "path", "samesite", "max-age"} <= attributes
        assert "domain" not in attributes
        assert "path=/" in cookie.lower() and "samesite=lax" in cookie.lower()

        response = await client.post(
            "/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD, "rememberMe": False}
        )
        cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("__Host-session="))
        assert "max-age" not in cookie.lower() and "expires" not in cookie.lower()  # a browser-session cookie
        await app.state.mailer.drain()


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": EVIL},
        {"origin": "null"},
        {"origin": "http://testserver.local.evil.example"},
        {"origin": "", "sec-fetch-site": "cross-site"},
        {"origin": "", "referer": EVIL + "/page"},
    ],
)
async def test_unsafe_requests_from_untrusted_origins_are_refused(client: Client, headers: dict[str, str]) -> None:
    client.headers.pop("origin")
    response = await client.post(
        "/api/auth/sign-in/email",
        json={"email": unique_email(), "password": "whatever-123"},
        headers={k: v for k, v in headers.items() if v},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "INVALID_ORIGIN"


async def test_cookie_without_origin_is_refused_but_a_cookieless_client_is_not(client: Client) -> None:
    await signed_in(client)
    client.headers.pop("origin")
    response = await client.post("/api/auth/update-user", json={"name": "Mallory"})
    assert response.status_code == 403
    async with Client(app=client.app, base_url=BASE_URL) as bare:
        response = await bare.post("/api/auth/sign-in/email", json={"email": unique_email(), "password": "x" * 12})
        assert response.status_code == 401  # judged on its credentials, not refused as cross-site


async def test_configured_trusted_origin_is_accepted(make_app: AppFactory) -> None:
    async with Client(app=make_app(app={"trusted_origins": ["https://spa.example.com"]}), base_url=BASE_URL) as client:
        response = await client.post(
            "/api/auth/sign-in/email",
            json={"email": unique_email(), "password": "x" * 12},
            headers={"origin": "https://spa.example.com"},
        )
        assert response.status_code == 401


async def test_html_forms_need_the_csrf_token(client: Client) -> None:
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    refused = await client.post("/sign-in", data={"email": email, "password": STRONG_PASSWORD})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text and "INVALID_CSRF_TOKEN" in refused.text
    boosted = {"hx-request": "true", "hx-boosted": "true"}
    in_place = await client.post("/sign-in", data={"email": email, "password": "x"}, headers=boosted)
    assert in_place.status_code == 403 and in_place.headers["hx-retarget"] == "#notice-region"
    assert in_place.headers["hx-reswap"] == "innerHTML" and "<html" not in in_place.text
    assert "Copy what you typed, reload the page and send it again." in in_place.text
    accepted = await client.submit("/sign-in", {"email": email, "password": STRONG_PASSWORD})
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "/\\evil.com",
        "https://app@evil.com",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "https://evil.com/",
        "http://testserver.local@evil.com/",
        "/\t/evil.com",
        "\\\\evil.com",
        "data:text/html,x",
        "https:evil.com",
        "///evil.com",
    ],
)
async def test_open_redirect_payloads_fall_back_to_home(client: Client, target: str) -> None:
    assert safe_redirect(target, {BASE_URL}) == "/"
    email = await signed_in(client)
    await client.post("/api/auth/sign-out")
    response = await client.submit("/sign-in", {"email": email, "password": STRONG_PASSWORD, "next": target})
    assert response.headers["location"] == "/"


def test_safe_redirect_keeps_same_site_paths_and_trusted_origins() -> None:
    assert safe_redirect("/account?tab=email", {BASE_URL}) == "/account?tab=email"
    assert safe_redirect(f"{BASE_URL}/account", {BASE_URL}) == f"{BASE_URL}/account"
    assert (
        safe_redirect("https://spa.example.com/x", {BASE_URL, "https://spa.example.com"}) == "https://spa.example.com/x"
    )


async def test_over_long_and_oversized_input_is_refused_before_hashing(client: Client, app: Litestar) -> None:
    calls = count_hashing(app)
    response = await client.post("/api/auth/sign-in/email", json={"email": unique_email(), "password": "p" * 129})
    assert response.status_code == 400
    response = await client.post(
        "/api/auth/sign-up/email", json={"name": "A", "email": unique_email(), "password": "p" * 5000}
    )
    assert response.status_code == 400
    assert calls == {"hash": 0, "verify": 0}
    huge = await client.post(
        "/api/auth/sign-in/email",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413


class CountingHasher:
    """Wraps the app's real Argon2 hasher and counts its calls (the real hashing still runs)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = {"hash": 0, "verify": 0}

    def hash(self, password: str) -> str:
        self.calls["hash"] += 1
        return str(self.inner.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        self.calls["verify"] += 1
        return bool(self.inner.verify(stored, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def count_hashing(app: Litestar) -> dict[str, int]:
    """Install a CountingHasher on the app and return its live call counts."""
    counting = CountingHasher(app.state.auth.passwords.hasher)
    app.state.auth.passwords.hasher = counting
    return counting.calls


async def test_openapi_documents_the_json_api_only(client: Client) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    paths = set(spec["paths"])
    assert {"/api/auth/sign-in/email", "/api/auth/get-session", "/health"} <= paths
    assert not any(p.startswith(("/sign-in", "/account")) for p in paths)
    assert (await client.get("/schema/swagger")).status_code == 404  # no CDN-loading UI under our CSP


async def test_htmx_requests_carry_the_csrf_token_from_the_page(client: Client) -> None:
    page = await client.get("/sign-in")
    match = re.search(r'hx-headers=\'\{"x-csrftoken": "([^"]+)"\}\'', page.text)
    assert match, "the body must give htmx the CSRF header"
    response = await client.post(
        "/sign-in",
        data={"email": unique_email(), "password": "not the password"},
        headers={"hx-request": "true", "x-csrftoken": match.group(1)},
    )
    assert response.status_code == 422  # judged on the credentials: the header token was accepted


async def test_a_loopback_base_url_trusts_its_other_loopback_spellings(make_app: AppFactory) -> None:
    app = make_app(app={"base_url": "http://localhost:8000"})
    trusted = {"http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"}
    async with Client(app=app, base_url="http://127.0.0.1:8000") as client:
        for origin in trusted:
            response = await client.post(
                "/api/auth/sign-in/email",
                json={"email": unique_email(), "password": "x" * 12},
                headers={"origin": origin},
            )
            assert response.status_code == 401, origin
        other_port = await client.post(
            "/api/auth/sign-in/email",
            json={"email": unique_email(), "password": "x" * 12},
            headers={"origin": "http://127.0.0.1:9999"},
        )
        assert other_port.status_code == 403
