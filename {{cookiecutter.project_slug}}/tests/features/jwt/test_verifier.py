"""The standalone verifier on its own: JWKS caching, rate-limited refresh, refused configurations."""

from __future__ import annotations

import ast
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.features.jwt import verifier as verifier_module
from app.features.jwt.keys import public_jwk
from app.features.jwt.verifier import InvalidToken, JWKSVerifier
from tests.conftest import FrozenClock
from tests.features.jwt.forge import Forge, b64, hs256, unsigned

ISSUER = "https://auth.example.test"
AUDIENCE = "notes-api"


@dataclass
class JwksServer:
    """A JWKS endpoint on a local port that counts its requests and can be switched to failing."""

    url: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0
    failing: bool = False


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    state = JwksServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(503 if state.failing else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/auth/jwks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def publish(server: JwksServer) -> Forge:
    """A new signing key in the JWKS, and a forge that signs with it."""
    key = ed25519.Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex
    server.keys.append(public_jwk(key, kid, "EdDSA"))
    return Forge(kid=kid, key=key, issuer=ISSUER, audience=AUDIENCE, subject=str(uuid.uuid4()))


def make_verifier(server: JwksServer, **options: Any) -> JWKSVerifier:
    return JWKSVerifier(server.url, issuer=ISSUER, audience=AUDIENCE, **options)


def test_a_valid_token_gives_its_claims(jwks_server: JwksServer) -> None:
    forge = publish(jwks_server)
    claims = make_verifier(jwks_server).verify(forge.sign())
    assert claims["sub"] == forge.subject


def test_keys_are_cached_and_unknown_kids_refetch_at_most_once_per_interval(
    jwks_server: JwksServer, clock: FrozenClock
) -> None:
    forge = publish(jwks_server)
    verifier = make_verifier(jwks_server, min_refresh_interval=1, clock=clock)
    for _ in range(5):
        verifier.verify(forge.sign())
    assert jwks_server.hits == 1
    clock.advance(1)
    for _ in range(20):
        with pytest.raises(InvalidToken, match="unknown kid"):
            verifier.verify(forge.sign(headers={"kid": uuid.uuid4().hex}, key=forge.attacker))
    assert jwks_server.hits == 2  # one refetch for the first unknown kid, then none within the interval


def test_a_new_key_is_picked_up_on_its_first_token(jwks_server: JwksServer) -> None:
    first = publish(jwks_server)
    verifier = make_verifier(jwks_server, min_refresh_interval=0)
    verifier.verify(first.sign())
    second = publish(jwks_server)
    assert verifier.verify(second.sign())["sub"] == second.subject
    assert jwks_server.hits == 2


def test_a_removed_key_stops_verifying_once_the_cache_expires(jwks_server: JwksServer) -> None:
    forge = publish(jwks_server)
    verifier = make_verifier(jwks_server, cache_ttl=0, min_refresh_interval=0)
    verifier.verify(forge.sign())
    jwks_server.keys.clear()
    with pytest.raises(InvalidToken, match="unknown kid"):
        verifier.verify(forge.sign())


def test_an_unreachable_jwks_keeps_the_last_good_keys(jwks_server: JwksServer) -> None:
    forge = publish(jwks_server)
    verifier = make_verifier(jwks_server, cache_ttl=0, min_refresh_interval=0)
    verifier.verify(forge.sign())
    jwks_server.failing = True
    assert verifier.verify(forge.sign())["sub"] == forge.subject
    assert jwks_server.hits == 2


def test_a_fresh_verifier_without_a_jwks_refuses_everything(jwks_server: JwksServer) -> None:
    forge = publish(jwks_server)
    jwks_server.failing = True
    with pytest.raises(InvalidToken, match="unknown kid"):
        make_verifier(jwks_server).verify(forge.sign())


def test_symmetric_keys_in_the_jwks_are_ignored(jwks_server: JwksServer) -> None:
    """A JWKS that (wrongly) holds a shared secret must not make HS256, or that secret, acceptable."""
    forge = publish(jwks_server)
    secret = b"s" * 32
    jwks_server.keys.append({"kty": "oct", "k": b64(secret), "kid": "shared", "alg": "EdDSA"})
    verifier = make_verifier(jwks_server, min_refresh_interval=0)
    with pytest.raises(InvalidToken, match="algorithm not allowed"):
        verifier.verify(hs256(forge.header(alg="HS256", kid="shared"), forge.claims(), secret))
    with pytest.raises(InvalidToken, match="unknown kid"):
        verifier.verify(forge.sign(headers={"kid": "shared"}))


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", "x" * 9000, unsigned({"alg": ["EdDSA"], "kid": "k"}, {}), unsigned({"alg": None}, {})],
    ids=["empty", "one-part", "garbage", "huge", "alg-list", "alg-null"],
)
def test_malformed_tokens_are_refused_without_a_fetch(jwks_server: JwksServer, token: str) -> None:
    with pytest.raises(InvalidToken):
        make_verifier(jwks_server).verify(token)
    assert jwks_server.hits == 0


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("http://auth.example.test/api/auth/jwks", {}),
        ("ftp://127.0.0.1/jwks", {}),
        ("https://auth.example.test/api/auth/jwks", {"algorithms": ["HS256"]}),
        ("https://auth.example.test/api/auth/jwks", {"algorithms": ["EdDSA", "none"]}),
        ("https://auth.example.test/api/auth/jwks", {"algorithms": []}),
        ("https://auth.example.test/api/auth/jwks", {"issuer": ""}),
    ],
    ids=["plain-http", "ftp", "hs256", "none", "no-algorithm", "no-issuer"],
)
def test_unsafe_configurations_are_refused(url: str, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        JWKSVerifier(url, **{"issuer": ISSUER, "audience": AUDIENCE, **options})


async def test_averify_checks_off_the_event_loop(jwks_server: JwksServer) -> None:
    forge = publish(jwks_server)
    assert (await make_verifier(jwks_server).averify(forge.sign()))["sub"] == forge.subject


def test_the_verifier_needs_only_pyjwt_and_the_standard_library() -> None:
    """So that it can be copied into another service as it is."""
    source = Path(verifier_module.__file__).read_text("utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"jwt"}
