"""The browser side (static/passkeys/passkeys.js) run in Node: its base64url and WebAuthn JSON handling.

The script exports its encoding helpers when loaded as a CommonJS module; the checks compare them
with py_webauthn's encoding of the same bytes, so both ends agree.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from webauthn.helpers import bytes_to_base64url

import app.features.passkeys as feature

SCRIPT = Path(feature.__file__).parent / "static" / "passkeys" / "passkeys.js"
NODE = shutil.which("node")

HARNESS = r"""
const helpers = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const bytes = (buffer) => Array.from(new Uint8Array(buffer));
const out = {};
out.encoded = input.samples.map((sample) => helpers.toBase64url(new Uint8Array(sample).buffer));
out.decoded = input.encodedByPython.map((text) => bytes(helpers.fromBase64url(text)));
const creation = helpers.creationOptions(input.creation);
out.creation = {
  challenge: bytes(creation.challenge),
  userId: bytes(creation.user.id),
  userName: creation.user.name,
  excluded: creation.excludeCredentials.map((item) => bytes(item.id)),
  rpId: creation.rp.id,
};
const request = helpers.requestOptions(input.request);
out.request = { challenge: bytes(request.challenge), allowed: request.allowCredentials.map((i) => bytes(i.id)) };
const buf = (list) => new Uint8Array(list).buffer;
out.attestation = helpers.credentialJSON({
  id: "AQID", rawId: buf([1, 2, 3]), type: "public-key", authenticatorAttachment: "platform",
  getClientExtensionResults: () => ({}),
  response: {
    clientDataJSON: buf([123, 125]), attestationObject: buf([250, 251, 252]), getTransports: () => ["internal"],
  },
});
out.assertion = helpers.credentialJSON({
  id: "AQID", rawId: buf([1, 2, 3]), type: "public-key", getClientExtensionResults: () => ({}),
  response: {
    clientDataJSON: buf([123, 125]), authenticatorData: buf([0, 255]), signature: buf([62, 63]), userHandle: buf([255]),
  },
});
process.stdout.write(JSON.stringify(out));
"""


def run_script(payload: dict[str, object]) -> dict[str, Any]:
    assert NODE, "node is needed to test the browser script"
    done = subprocess.run(
        [NODE, "-e", HARNESS, str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def samples() -> list[bytes]:
    return [b"", b"\x00", b"\xff\xfe", b"abc", bytes(range(256)), b"\xfb\xff\xbf" * 7, b"\x01" * 33]


def test_base64url_matches_py_webauthn(samples: list[bytes]) -> None:
    out = run_script(
        {
            "samples": [list(s) for s in samples],
            "encodedByPython": [bytes_to_base64url(s) for s in samples],
            "creation": {"challenge": "AA", "user": {"id": "AA", "name": "a"}, "rp": {"id": "x"}},
            "request": {"challenge": "AA"},
        }
    )
    assert out["encoded"] == [bytes_to_base64url(s) for s in samples]
    encoded: list[str] = out["encoded"]
    assert all("=" not in e and "+" not in e and "/" not in e for e in encoded)
    assert out["decoded"] == [list(s) for s in samples]


def test_options_and_credentials_are_converted_both_ways() -> None:
    challenge, user_id, excluded = b"\x9f" * 32, b"\x00\x10" * 8, b"\xfa\xfb\xfc\xfd"
    out = run_script(
        {
            "samples": [],
            "encodedByPython": [],
            "creation": {
                "challenge": bytes_to_base64url(challenge),
                "rp": {"id": "example.com", "name": "Example"},
                "user": {"id": bytes_to_base64url(user_id), "name": "ada@example.com", "displayName": "Ada"},
                "excludeCredentials": [{"id": bytes_to_base64url(excluded), "type": "public-key"}],
            },
            "request": {
                "challenge": bytes_to_base64url(challenge),
                "allowCredentials": [{"id": "-_8", "type": "public-key"}],
            },
        }
    )
    assert out["creation"] == {
        "challenge": list(challenge),
        "userId": list(user_id),
        "userName": "ada@example.com",
        "excluded": [list(excluded)],
        "rpId": "example.com",
    }
    assert out["request"] == {"challenge": list(challenge), "allowed": [[0xFB, 0xFF]]}
    assert out["attestation"] == {
        "id": "AQID",
        "rawId": "AQID",
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": {"clientDataJSON": "e30", "attestationObject": "-vv8", "transports": ["internal"]},
    }
    assert out["assertion"] == {
        "id": "AQID",
        "rawId": "AQID",
        "type": "public-key",
        "clientExtensionResults": {},
        "response": {"clientDataJSON": "e30", "authenticatorData": "AP8", "signature": "Pj8", "userHandle": "_w"},
    }


def test_script_stays_small_and_csp_friendly() -> None:
    source = SCRIPT.read_text()
    assert len(source.splitlines()) < 300
    for forbidden in ("eval(", "new Function", "innerHTML", "document.write"):
        assert forbidden not in source
