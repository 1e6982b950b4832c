"""The OpenAPI schema says what each route answers, and the app answers what its schema says.

Every error answer is documented as `ErrorBody` (`{"code", "message"}`) with the statuses and codes
it can come with (app.core.openapi). Schemathesis then checks the app against its own schema with
all its checks (status codes, content types, response bodies and headers, valid data accepted,
invalid data refused, unsupported methods ...), anonymously and with a session's bearer token,
against the app served by uvicorn.

Here the runs are short and the same on every machine: FUZZ_EXAMPLES (3) generated cases per
operation, generated deterministically, no time limit anywhere. The bearer run adds the coverage
phase (boundary values, missing and wrong fields, unexpected methods: some 1,800 requests), which
reaches every handler's checks past authentication; the anonymous run needs only a few cases per
operation to meet each refusal. `make fuzz` runs both with every phase, many more cases and a new
seed each time (FUZZ_EXAMPLES, FUZZ_PHASES, FUZZ_SEED: a seed it printed replays that run).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.constants import RESERVED_KWARGS

from app.asgi import create_app
from app.core.security import SAFE_METHODS
from app.features import ENABLED
from tests.conftest import STRONG_PASSWORD, make_settings, unique_email
from tests.mailbox import Mailbox

SCHEMA = "/schema/openapi.json"
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
PROBES = {"/health", "/ready"}
CONFIG = Path(__file__).parents[1] / "schemathesis.toml"
# Operations that end the bearer token's session or account: the bearer run leaves them to the anonymous one.
ENDS_THE_SESSION = ["/api/auth/sign-out", "/api/auth/revoke-sessions", "/api/auth/delete-user"]
NO_LIMITS = {"general": 1_000_000, "sign_in": 1_000_000, "sign_up": 1_000_000}  # 429s of budgets still come


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def _codes(responses: dict[str, Any], status: str) -> set[str]:
    """The codes documented for this status (none when the status is not)."""
    examples = responses.get(status, {}).get("content", {}).get("application/json", {}).get("examples", {})
    return {example["value"]["code"] for example in examples.values()}


def _handlers(app: Litestar) -> Iterator[tuple[str, str, Any]]:
    for route in app.routes:
        for method, handler in getattr(route, "route_handler_map", {}).items():
            if method != "OPTIONS" and handler[0].resolve_include_in_schema():
                yield route.path, method, handler[0]


async def test_every_error_answer_is_documented_as_code_and_message(app: Litestar) -> None:
    schema = app.openapi_schema.to_schema()
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["code", "message"]
    assert set(error_body["properties"]) == {"code", "message"}
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400 or (path, status) == ("/ready", "503"):  # /ready names each dependency
                continue
            where = f"{method} {path} {status}"
            assert response["content"]["application/json"]["schema"] == ERROR_BODY, where
            codes = _codes(operation["responses"], status)
            assert codes and all(re.fullmatch(r"[A-Z_]+", code) for code in codes), where
            assert "detail" not in str(response), where  # Litestar's own error shape is gone


async def test_statuses_are_documented_where_they_occur(app: Litestar) -> None:
    schema = app.openapi_schema.to_schema()
    exempt = {path for feature in ENABLED for path in feature.paths.cross_site_posts}
    for path, method, handler in _handlers(app):
        responses = schema["paths"][path][method.lower()]["responses"]
        where = f"{method} {path}"
        if path in PROBES:
            assert set(responses) <= {"200", "503"}, where
            continue
        assert responses["429"]["headers"]["Retry-After"]["required"], where  # the rate limit, every route
        assert "Retry-After" in responses["503"]["headers"], where  # a dependency down, every route
        assert "SERVICE_UNAVAILABLE" in _codes(responses, "503"), where
        unsafe = not handler.http_methods <= SAFE_METHODS  # a handler's methods share its documented answers
        assert ("CONFLICT" in _codes(responses, "409")) is unsafe, where
        assert ("INVALID_ORIGIN" in _codes(responses, "403")) is (unsafe and path not in exempt), where
        parameters = handler.parsed_fn_signature.parameters
        if "user" in parameters or "caller" in parameters:
            assert "UNAUTHORIZED" in _codes(responses, "401"), where
        if "data" in parameters:
            assert {"VALIDATION_ERROR", "BAD_REQUEST"} <= _codes(responses, "400"), where
            assert "PAYLOAD_TOO_LARGE" in _codes(responses, "413"), where
        if set(parameters) - handler.resolve_dependencies().keys() - RESERVED_KWARGS:
            assert "VALIDATION_ERROR" in _codes(responses, "400"), f"{where}: its parameters may be invalid"
    sign_in = schema["paths"]["/api/auth/sign-in/email"]["post"]["responses"]
    assert "INVALID_EMAIL_OR_PASSWORD" in _codes(sign_in, "401")
    assert {"EMAIL_NOT_VERIFIED", "BANNED_USER", "INVALID_ORIGIN"} <= _codes(sign_in, "403")
    assert "TOO_MANY_REQUESTS" in _codes(sign_in, "429")
    auth = schema["paths"]
    assert _codes(auth["/api/auth/revoke-session"]["post"]["responses"], "404") == {"SESSION_NOT_FOUND"}
    assert "SESSION_NOT_FRESH" in _codes(auth["/api/auth/change-email"]["post"]["responses"], "403")
    assert "INVALID_TOKEN" in _codes(auth["/api/auth/verify-email"]["get"]["responses"], "400")
    session = auth["/api/auth/get-session"]["get"]["responses"]
    assert not {"400", "403", "404", "409"} & set(session)  # no input, no write, nothing looked up by id


@pytest.fixture
def served(database_url: str, mailbox: Mailbox) -> Iterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1, its base URL naming localhost as in development."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = make_settings(
        database_url,
        mailbox.port,
        app={"base_url": f"http://localhost:{port}", "name": "Fuzzed App"},
        auth={"allow_unverified_sign_in": True},
        rate_limit=NO_LIMITS,
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))
    log = logging.getLogger("app")
    level = log.level
    log.setLevel(logging.WARNING)  # not a line per refused request; failures still show
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-fuzz", daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the app did not start; see the log above"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()
    log.setLevel(level)


def _bearer_token(url: str) -> str:
    """A session token, as a client without cookies gets one: sign up, then sign in asking for the token."""
    email = unique_email("fuzz")
    with httpx.Client(base_url=url) as client:
        account = {"name": "Fuzz", "email": email, "password": STRONG_PASSWORD}
        assert client.post("/api/auth/sign-up/email", json=account).status_code == 200
        credentials = {"email": email, "password": STRONG_PASSWORD}
        signed = client.post("/api/auth/sign-in/email", json=credentials, headers={"x-return-token": "true"})
        assert signed.status_code == 200, signed.text
        token: str = signed.json()["token"]
        assert client.get("/api/auth/get-session", headers={"authorization": f"Bearer {token}"}).json()
        return token


def schemathesis_run(url: str, phases: str, *options: str) -> str:
    """Run schemathesis (every check) against the served app; its report, which must say it passed."""
    examples = os.environ.get("FUZZ_EXAMPLES", "3")
    phases = os.environ.get("FUZZ_PHASES", phases)
    seed = os.environ.get("FUZZ_SEED", "")
    generation = ["--generation-deterministic"] if not seed else [] if seed == "random" else ["--seed", seed]
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", url + SCHEMA),
        *("--checks", "all", "--phases", phases, "--max-examples", examples, "--workers", "1", "--no-color"),
        *generation,
        *options,
    ]
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
        assert run.stdout is not None
        for line in run.stdout:  # as it comes: `make fuzz` shows the progress (-s), pytest keeps it for a failure
            print(line, end="")  # noqa: T201
            lines.append(line)
    report = "".join(lines)
    summary = "".join(lines[-12:])
    assert run.returncode == 0, f"schemathesis found what the schema does not say (report above):\n{summary}"
    assert re.search(r"\d+ generated, \d+ passed", report), summary
    return report


def test_anonymous_answers_conform_to_the_schema(served: str) -> None:
    schemathesis_run(served, "examples,fuzzing")


def test_bearer_answers_conform_to_the_schema(served: str) -> None:
    token = _bearer_token(served)
    skipped = [option for path in ENDS_THE_SESSION for option in ("--exclude-path", path)]
    schemathesis_run(served, "examples,coverage,fuzzing", "--header", f"Authorization: Bearer {token}", *skipped)
    with httpx.Client(base_url=served) as client:  # the run used the session without ending it
        assert client.get("/api/auth/get-session", headers={"authorization": f"Bearer {token}"}).json()
