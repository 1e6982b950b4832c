"""WebAuthn challenges: random, single use, 5 minutes, bound to the browser that asked for them.

The browser holds a random binding token in an HttpOnly cookie; the server keeps, in the core's
`verification` table, only the SHA-256 of the challenge and of that token. A response is
accepted only with the cookie that asked for its challenge, and the row is deleted on first use
(DELETE ... RETURNING), whether the response then verifies or not.
"""

from __future__ import annotations

import base64
import json
import secrets

from litestar.datastructures import Cookie
from sqlmodel.ext.asyncio.session import AsyncSession
from webauthn.helpers import base64url_to_bytes

from app.auth import AuthKit
from app.core.cookies import Cookies
from app.core.crypto import hash_token, new_token
from app.core.errors import AppError, InvalidToken

CHALLENGE_TTL = 300
COOKIE_NAME = "passkey_binding"
PURPOSE_PREFIX = "passkey-"


class InvalidChallenge(AppError):
    code = "INVALID_PASSKEY_CHALLENGE"
    status_code = 400
    default_message = "This passkey request has expired or was already used. Try again."


def _token(challenge: bytes) -> str:
    """The challenge as a single-use token of the auth core (which stores only its hash)."""
    return base64.urlsafe_b64encode(challenge).rstrip(b"=").decode()


def client_challenge(client_data_b64: str) -> bytes:
    """The challenge an authenticator response answers (from its clientDataJSON); InvalidChallenge if unreadable."""
    try:
        client_data = json.loads(base64url_to_bytes(client_data_b64))
        return base64url_to_bytes(client_data["challenge"])
    except (ValueError, KeyError, TypeError, RecursionError) as error:  # json.loads: RecursionError when deeply nested
        raise InvalidChallenge("The passkey response could not be read.") from error


class Challenges:
    """Issues and consumes challenges for one purpose each ("register", "sign-in", "second-factor")."""

    def __init__(self, cookies: Cookies, kit: AuthKit) -> None:
        self.cookies = cookies
        self.kit = kit
        self.cookie_name = cookies.name(COOKIE_NAME)

    def binding(self, cookie_value: str | None) -> tuple[str, Cookie | None]:
        """The browser's binding token, and the cookie to set when it had none (or a malformed one)."""
        if cookie_value and 20 <= len(cookie_value) <= 128 and cookie_value.replace("-", "").replace("_", "").isalnum():
            return cookie_value, None
        token = new_token()
        return token, self.cookies.make(COOKIE_NAME, token, max_age=24 * 3600, same_site="strict")

    async def issue(self, db: AsyncSession, binding: str, purpose: str, payload: str = "") -> bytes:
        """A new random challenge for this browser; its hash is stored (committed by the caller)."""
        challenge = secrets.token_bytes(32)
        await self.kit.issue_token(
            db, PURPOSE_PREFIX + purpose, hash_token(binding), CHALLENGE_TTL, payload, token=_token(challenge)
        )
        return challenge

    async def consume(self, db: AsyncSession, binding: str | None, purpose: str, challenge: bytes) -> str:
        """Use up the challenge a response answers; its payload. Commits, so a failed attempt burns it too."""
        if not binding:
            raise InvalidChallenge()
        try:
            _, payload = await self.kit.consume_token(
                db, PURPOSE_PREFIX + purpose, _token(challenge), identifier=hash_token(binding)
            )
        except InvalidToken:
            raise InvalidChallenge() from None
        finally:
            await db.commit()  # a failed attempt burns the challenge too
        return payload
