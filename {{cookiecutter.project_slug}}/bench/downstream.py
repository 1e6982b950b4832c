"""A downstream service for the JWT case: a bare Litestar app that checks this app's JWTs.

It uses the shipped verifier (src/app/features/jwt/verifier.py, loaded by its file path as a
service that copied the file would) and answers `GET /me` with the token's subject. Only its
own cost is timed: the JWKS is fetched once and cached by the verifier.

In-process, the JWKS comes from the app through an ASGI call (`build`); served over HTTP
(`uvicorn --factory bench.downstream:create_app`), the verifier fetches it from the app's server
named by BENCH_JWKS_URL, like any downstream service.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from litestar import Litestar, Request, get
from litestar.exceptions import NotAuthorizedException

VERIFIER = Path(__file__).resolve().parent.parent / "src" / "app" / "features" / "jwt" / "verifier.py"


def load_verifier() -> ModuleType:
    """verifier.py as a module of its own (it exists when the project has the JWT feature)."""
    spec = importlib.util.spec_from_file_location("bench_jwt_verifier", VERIFIER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {VERIFIER}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(verifier: Any, invalid_token: type[Exception]) -> Litestar:
    """The downstream app around a verifier (`invalid_token`: the InvalidToken class of its module)."""

    @get("/me", sync_to_thread=False)
    def me(request: Request[Any, Any, Any]) -> dict[str, str]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise NotAuthorizedException("no bearer token")
        try:
            claims = verifier.verify(token.strip())
        except invalid_token as error:
            raise NotAuthorizedException(str(error)) from None
        return {"sub": claims["sub"]}

    @get("/", sync_to_thread=False)
    def ready() -> dict[str, str]:
        """What the benchmark servers poll before they are loaded."""
        return {"status": "ok"}

    return Litestar(route_handlers=[me, ready])


class _Document:
    """What urllib's opener returns, for a JWKS document already in hand."""

    status = 200

    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self, _limit: int = -1) -> bytes:
        return self.body

    def __enter__(self) -> _Document:
        return self

    def __exit__(self, *_: object) -> None:
        return None


class _Opener:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def open(self, _request: Any, timeout: float = 0) -> _Document:
        return _Document(self.body)


def in_process(jwks: dict[str, Any], issuer: str, audience: str) -> Litestar:
    """The downstream app with a verifier that reads `jwks` instead of fetching it (no server in-process)."""
    module = load_verifier()
    verifier = module.JWKSVerifier("http://127.0.0.1/api/auth/jwks", issuer=issuer, audience=audience)
    verifier._opener = _Opener(json.dumps(jwks).encode())
    return build(verifier, module.InvalidToken)


def create_app() -> Litestar:
    """Factory for servers: BENCH_JWKS_URL, BENCH_JWT_ISSUER and BENCH_JWT_AUDIENCE from the environment."""
    module = load_verifier()
    verifier = module.JWKSVerifier(
        os.environ["BENCH_JWKS_URL"],
        issuer=os.environ["BENCH_JWT_ISSUER"],
        audience=os.environ["BENCH_JWT_AUDIENCE"],
    )
    return build(verifier, module.InvalidToken)
