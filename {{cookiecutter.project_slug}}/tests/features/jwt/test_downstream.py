"""End to end over HTTP: the app and a downstream service, each in a process of its own.

The app (uvicorn) issues JWTs to signed-in users; the downstream service (downstream_service.py)
checks them with verifier.py against the app's JWKS and serves each user their own notes only.
Forged tokens are minted here with the app's real signing key, read from the database, so each
one is valid but for the single flaw it tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import jwt
import pytest
from alembic import command
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.crypto import SecretBox
from app.features.jwt.keys import SEAL_PURPOSE, unseal
from app.features.jwt.models import JwtKey
from app.migrations import alembic_config
from tests.cli import Completed
from tests.cli import run_app as run_cli
from tests.conftest import STRONG_PASSWORD, unique_email
from tests.features.jwt.forge import REJECTED, Forge

PROJECT = Path(__file__).resolve().parents[3]
DOWNSTREAM = str(Path(__file__).with_name("downstream_service.py"))
SECRET = "downstream-test-secret-" + "k" * 32
AUDIENCE = "notes-api"


@dataclass
class Services:
    """Where the two processes listen, and the environment the app runs with (for its CLI)."""

    app: str
    downstream: str
    env: dict[str, str]
    database_url: str
    http: httpx.Client  # one client for the module: each new one reads the CA bundle (~35 ms)


@dataclass
class User:
    """A signed-in user of the app: its HTTP client (holding the session cookie) and its id."""

    client: httpx.Client
    id: str

    def token(self) -> str:
        response = self.client.get("/api/auth/token")
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token


@pytest.fixture(scope="module")
def jwt_database(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str | None) -> Iterator[str]:
    url = postgres_server_url or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('jwt') / 'app.db'}"
    command.upgrade(alembic_config(url), "heads")
    yield url
    if postgres_server_url is not None:
        command.downgrade(alembic_config(url), "base")


@contextmanager
def process(args: list[str], env: dict[str, str], log: IO[str], **options: Any) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, **options)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(url: str, proc: subprocess.Popen[str], log: Path) -> None:
    """Poll until the process answers (it is starting: a deadline, not a measurement)."""
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"{url} exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if http.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    pytest.fail(f"{url} did not answer within 30 s:\n{log.read_text()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def services(jwt_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    logs = tmp_path_factory.mktemp("logs")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    app_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    downstream_url = f"http://127.0.0.1:{free_port()}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "JWT_", "DATABASE_", "REDIS_"))}
    env = base | {
        "PYTHONPATH": str(PROJECT / "src"),
        "APP_ENV": "test",
        "APP_BASE_URL": app_url,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": jwt_database,
        "REDIS_URL": "",
        "MAIL_BACKEND": "console",
        "JWT_AUDIENCE": AUDIENCE,
    }
    app_args = [sys.executable, "-m", "uvicorn", "--factory", "app.asgi:create_app", "--fd", str(listener.fileno())]
    downstream_args = [
        sys.executable,
        "-I",  # no PYTHONPATH, no script folder: `app` cannot be imported, only the copied verifier
        DOWNSTREAM,
        "--port",
        downstream_url.rsplit(":", 1)[1],
        "--jwks-url",
        f"{app_url}/api/auth/jwks",
        "--issuer",
        app_url,
        "--audience",
        AUDIENCE,
        "--min-refresh-interval",
        "0",  # a kid it never saw is fetched at once (the interval itself: tests/features/jwt/test_verifier.py)
    ]
    with (
        (logs / "app.log").open("w") as app_log,
        (logs / "downstream.log").open("w") as downstream_log,
        process(app_args, env, app_log, pass_fds=[listener.fileno()]) as app_proc,
        process(downstream_args, base, downstream_log) as downstream_proc,
    ):
        wait_for(f"{app_url}/health", app_proc, logs / "app.log")
        wait_for(f"{downstream_url}/health", downstream_proc, logs / "downstream.log")
        with httpx.Client(timeout=10) as http:
            yield Services(app_url, downstream_url, env, jwt_database, http)
    listener.close()


def sign_in(services: Services) -> User:
    client = httpx.Client(base_url=services.app, headers={"origin": services.app}, timeout=10)
    email = unique_email("jwt")
    body = {"name": "Downstream User", "email": email, "password": STRONG_PASSWORD}
    assert client.post("/api/auth/sign-up/email", json=body).status_code == 200
    response = client.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return User(client, response.json()["user"]["id"])


@pytest.fixture(scope="module")
def alice(services: Services) -> Iterator[User]:
    user = sign_in(services)
    yield user
    user.client.close()


@pytest.fixture(scope="module")
def bob(services: Services) -> Iterator[User]:
    user = sign_in(services)
    yield user
    user.client.close()


def notes(services: Services, owner: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return services.http.get(f"{services.downstream}/users/{owner}/notes", headers=headers)


def signing_key(services: Services, kid: str) -> ed25519.Ed25519PrivateKey:
    """The app's private key for `kid`, unsealed from its database with SECRET_KEY (what an attacker lacks)."""

    async def load() -> JwtKey | None:
        engine = create_async_engine(services.database_url, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as db:
                return await db.get(JwtKey, kid)
        finally:
            await engine.dispose()

    row = anyio.run(load)
    assert row is not None
    key = unseal(row, SecretBox(SECRET, SEAL_PURPOSE))
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


@pytest.fixture
def forge(services: Services, alice: User) -> Forge:
    kid = jwt.get_unverified_header(alice.token())["kid"]
    return Forge(kid=kid, key=signing_key(services, kid), issuer=services.app, audience=AUDIENCE, subject=alice.id)


def test_each_user_reads_only_their_own_notes(services: Services, alice: User, bob: User) -> None:
    alice_token, bob_token = alice.token(), bob.token()
    mine = notes(services, alice.id, alice_token)
    assert mine.status_code == 200 and mine.json()["owner"] == alice.id
    assert notes(services, bob.id, alice_token).status_code == 403
    assert notes(services, bob.id, bob_token).json()["owner"] == bob.id
    assert notes(services, alice.id, bob_token).status_code == 403
    anonymous = notes(services, alice.id, None)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")


def test_the_token_endpoint_needs_a_session(services: Services) -> None:
    response = services.http.get(f"{services.app}/api/auth/token")
    assert response.status_code == 401 and response.json()["code"] == "UNAUTHORIZED"
    assert (
        services.http.get(f"{services.app}/api/auth/token", headers={"Authorization": "Bearer nonsense"}).status_code
        == 401
    )


def test_a_token_minted_like_the_forgeries_but_flawless_is_accepted(services: Services, forge: Forge) -> None:
    """The control for the cases below: what they reject is their one flaw, not the way they are made."""
    assert notes(services, forge.subject, forge.sign()).status_code == 200


@pytest.mark.parametrize(("build", "reason"), [(b, r) for _, b, r in REJECTED], ids=[i for i, _, _ in REJECTED])
def test_the_downstream_service_rejects(
    services: Services, forge: Forge, build: Callable[[Forge], str], reason: str
) -> None:
    response = notes(services, forge.subject, build(forge))
    assert response.status_code == 401, response.text
    assert reason in response.json()["reason"]


def run_app(services: Services, *args: str) -> Completed:
    return run_cli(*args, env=services.env)


def jwks_kids(services: Services) -> set[str]:
    return {key["kid"] for key in services.http.get(f"{services.app}/api/auth/jwks").json()["keys"]}


def test_rotation_from_the_command_line(services: Services, alice: User) -> None:
    before = alice.token()
    old_kid = jwt.get_unverified_header(before)["kid"]
    (published,) = jwks_kids(services) - {old_kid}

    rotated = run_app(services, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert f"Signing with {published}" in rotated.stdout and f"Retired {old_kid}" in rotated.stdout
    after = alice.token()
    assert jwt.get_unverified_header(after)["kid"] == published
    assert {old_kid, published} < jwks_kids(services)
    assert notes(services, alice.id, before).status_code == 200  # the retired key verifies during its grace
    assert notes(services, alice.id, after).status_code == 200
    listed = run_app(services, "keys", "list").stdout
    assert f"{old_kid}  EdDSA  retired" in listed and f"{published}  EdDSA  signing" in listed

    revoked = run_app(services, "keys", "rotate", "--revoke")
    assert revoked.returncode == 0, revoked.stderr
    assert jwks_kids(services).isdisjoint({old_kid, published})
    fresh = alice.token()
    assert notes(services, alice.id, fresh).status_code == 200  # a kid it never saw: fetched at once
    for stale in (before, after):
        response = notes(services, alice.id, stale)
        assert response.status_code == 401 and response.json()["reason"] == "unknown kid"
