"""A downstream service for the tests: per-user notes behind this app's JWTs, checked against its JWKS.

It runs in a process of its own and loads `verifier.py` by its file path, without the `app`
package, as a service that copied the file would:

    python -I downstream_service.py --port 8001 --jwks-url http://127.0.0.1:8000/api/auth/jwks \
        --issuer http://127.0.0.1:8000 --audience api

    GET /health              200
    GET /users/<id>/notes    200 for the token's own user, 403 for anyone else, 401 without a valid token
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

VERIFIER = Path(__file__).resolve().parents[3] / "src" / "app" / "features" / "jwt" / "verifier.py"
NOTES = re.compile(r"^/users/([0-9a-f-]{36})/notes$")


def load_verifier() -> ModuleType:
    """verifier.py as a module of its own."""
    spec = importlib.util.spec_from_file_location("verifier", VERIFIER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {VERIFIER}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_handler(verifier: Any, invalid_token: type[Exception]) -> type[BaseHTTPRequestHandler]:
    """A request handler that answers with JSON and checks the bearer token on every note."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                self.answer(200, {"status": "ok"})
                return
            match = NOTES.match(self.path)
            if match is None:
                self.answer(404, {"error": "not_found"})
                return
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                self.answer(401, {"error": "invalid_token", "reason": "no bearer token"})
                return
            try:
                claims = verifier.verify(token.strip())
            except invalid_token as error:
                self.answer(401, {"error": "invalid_token", "reason": str(error)})
                return
            owner = match.group(1)
            if claims["sub"] != owner:
                self.answer(403, {"error": "forbidden"})
                return
            self.answer(200, {"owner": owner, "notes": [f"a note of {owner}"]})

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwks-url", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--audience", required=True)
    parser.add_argument("--min-refresh-interval", type=float, default=10.0)
    args = parser.parse_args()
    module = load_verifier()
    verifier = module.JWKSVerifier(
        args.jwks_url, issuer=args.issuer, audience=args.audience, min_refresh_interval=args.min_refresh_interval
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(verifier, module.InvalidToken))
    server.serve_forever()


if __name__ == "__main__":
    main()
