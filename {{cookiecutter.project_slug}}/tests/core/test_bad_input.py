"""Malformed input found by fuzzing a generated app: each once answered 500 with a traceback."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar, get
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.auth.models import Session
from app.auth.web import _address
from app.core.names import one_line_name
from app.core.redirects import safe_redirect
from tests.conftest import BASE_URL, STRONG_PASSWORD, Client, signed_in, unique_email

SIGN_IN = "/api/auth/sign-in/email"
FAMILY = "Fam\u00edlia \U0001f468\u200d\U0001f469\u200d\U0001f467"


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "\xff", "password": "x"}',  # not UTF-8: msgspec raises UnicodeDecodeError
        b"[" * 1100 + b"]" * 1100,  # nested past the recursion limit: RecursionError
    ],
)
async def test_an_unreadable_json_body_is_a_400(client: Client, body: bytes) -> None:
    response = await client.post(SIGN_IN, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "BAD_REQUEST",
        "message": "The request could not be read: send UTF-8 JSON, not nested so deeply.",
    }


def test_an_unclosed_ipv6_literal_is_no_redirect_target() -> None:
    assert safe_redirect("http://[::1", [BASE_URL], default="/home") == "/home"
    assert safe_redirect("https://[::1/x", [BASE_URL], default="/home") == "/home"


async def test_pages_ignore_an_unparsable_next(client: Client) -> None:
    page = await client.get("/sign-in", params={"next": "http://[::1"})
    assert page.status_code == 200 and "[::1" not in page.text


async def test_an_unparsable_referer_is_an_untrusted_origin(client: Client) -> None:
    client.headers.pop("origin", None)
    response = await client.post(SIGN_IN, json={}, headers={"referer": "http://[::1/"})
    assert response.status_code == 403 and response.json()["code"] == "INVALID_ORIGIN"


@pytest.mark.parametrize("host", ["a:b", "localhost:99999", "localhost:8000:1"])
async def test_a_host_with_a_bad_port_still_gets_pages_and_errors(client: Client, host: str) -> None:
    assert (await client.get("/sign-in", headers={"host": host})).status_code == 200
    missing = await client.get("/no/such/page", headers={"host": host, "accept": "text/html"})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert (await client.get("/api/auth/list-sessions", headers={"host": host})).status_code == 401


async def test_an_htmx_redirect_to_a_non_latin_path_is_percent_encoded(client: Client) -> None:
    await signed_in(client)
    response = await client.get("/sign-in", params={"next": "/caf\u00e9/\U0001f600"}, headers={"hx-request": "true"})
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/caf%C3%A9/%F0%9F%98%80"


@pytest.mark.parametrize("path", ["/static/app.css%00", "/static/" + "a" * 5000])
async def test_a_static_path_no_file_can_have_is_a_404(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404


def test_stored_client_addresses_are_addresses() -> None:
    assert _address("203.0.113.9") == "203.0.113.9"
    assert _address("2001:DB8::1") == "2001:db8::1"
    assert _address("fe80::1%" + "a" * 60) == "fe80::1"
    assert _address("x" * 60) is None
    assert _address("unknown") is None


async def test_a_forged_client_address_is_not_stored(app: Litestar) -> None:
    """uvicorn --proxy-headers copies X-Forwarded-For into the ASGI client unchecked."""
    email = unique_email()
    transport = httpx.ASGITransport(app=app, client=("x" * 60, 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"origin": BASE_URL}) as client:
        body = {"name": "Ada", "email": email, "password": STRONG_PASSWORD}
        assert (await client.post("/api/auth/sign-up/email", json=body)).status_code == 200
        signed = await client.post(SIGN_IN, json={"email": email, "password": STRONG_PASSWORD})
        assert signed.status_code == 200
    async with app.state.db.sessions() as db:
        rows = (await db.exec(select(Session))).all()
    assert [row.ip_address for row in rows] == [None]


async def test_a_nul_in_the_avatar_url_is_refused(client: Client) -> None:
    await signed_in(client)
    response = await client.post("/api/auth/update-user", json={"image": "https://example.com/\u0000.png"})
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("  Ada   Lovelace ", "Ada Lovelace"),
        (FAMILY, FAMILY),  # a zero-width joiner inside an emoji is fine
        ("\u200b", None),  # only a zero-width space
        ("\u200b\u0301", None),  # and a lone combining mark
        ("invoice\u202egnp.exe", None),  # a direction override
        ("bell\x07", None),
        ("del\x7f", None),
        ("c1\x9b", None),
        ("x" * 101, None),
    ],
)
def test_one_rule_for_the_names_people_type(raw: str, kept: str | None) -> None:
    assert one_line_name(raw, 100) == kept


async def test_a_name_with_a_direction_override_is_a_field_error(client: Client) -> None:
    await signed_in(client)
    response = await client.post("/api/auth/update-user", json={"name": "Ada\u202e"})
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "status"), [("22021", 400), ("22001", 400), ("23505", 500), ("08006", 500)])
async def test_a_value_the_database_refuses_is_a_400_other_database_errors_a_500(
    app: Litestar, client: Client, sqlstate: str, status: int
) -> None:
    """asyncpg's "invalid byte sequence" (a NUL) reaches SQLAlchemy as a plain DBAPIError: its SQLSTATE decides."""

    @get(f"/api/database-{sqlstate}", sync_to_thread=False)
    def refused() -> None:
        raise DBAPIError("SELECT 1", {}, _DriverError(sqlstate))

    app.register(refused)
    response = await client.get(f"/api/database-{sqlstate}")
    assert response.status_code == status
    assert response.json()["code"] == ("VALIDATION_ERROR" if status == 400 else "INTERNAL_SERVER_ERROR")
