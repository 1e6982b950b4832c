"""A small but real OpenID Connect provider for the tests, built on authlib's Flask server.

Authorization code with PKCE (S256 required), nonce, a discovery document, a JWKS (RS256), userinfo,
RFC 9207's `iss` parameter and a consent page with an Approve button. It runs on 127.0.0.1 on a free
port in a thread. `Misbehaviour` switches make it answer like a broken or hostile provider.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Response, jsonify, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "test-app"
CLIENT_SECRET = "test-app-secret-" + "s" * 24
CALLBACK_PATH = "/api/auth/callback/"
LABEL = "Test IdP"


@dataclass
class Identity:
    """The person who approves on the consent page."""

    sub: str = field(default_factory=lambda: secrets.token_hex(8))
    email: str = "person@example.com"
    email_verified: bool = True
    name: str = "Grace Hopper"
    picture: str = "https://images.example.com/grace.png"


@dataclass
class Misbehaviour:
    """How the provider lies. The defaults are an honest provider."""

    id_token_alg: str = "RS256"  # RS256 | HS256 (keyed with the public key) | none | RS256-foreign-key
    nonce: str | None = None  # a nonce other than the one asked for
    iss: str | None = None  # an issuer other than its own, in the ID token
    aud: str | None = None  # an audience other than the client
    iss_param: str | None = "own"  # RFC 9207 `iss` in the redirect: "own", another URL, or None (omitted)
    drop_id_token: bool = False
    expires_in: int | None = None  # the access token's lifetime in the token response, instead of 3600


@dataclass
class _Client:
    client_id: str
    client_secret: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "email", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri.startswith(("http://", "https://")) and CALLBACK_PATH in redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Identity
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))
    expires_at: float = field(default_factory=lambda: time.time() + 300)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return time.time() > self.expires_at


@dataclass
class _Token:
    access_token: str
    scope: str
    user: Identity
    client_id: str
    expires_at: float

    def check_client(self, client: _Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_at - time.time())

    def is_expired(self) -> bool:
        return time.time() > self.expires_at

    def is_revoked(self) -> bool:
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class OIDCProvider:
    """The provider: `start()`, then point the app at `discovery_url`; `identity` and `misbehave` per test."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
        self.client = _Client(CLIENT_ID, CLIENT_SECRET)
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, _Token] = {}
        self.identity = Identity()
        self.misbehave = Misbehaviour()
        self.token_requests: list[dict[str, str]] = []
        self.app = self._flask()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.issuer = ""

    def reset(self) -> None:
        """An honest provider with a new person approving."""
        self.identity = Identity()
        self.misbehave = Misbehaviour()
        self.token_requests.clear()

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> None:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread:
            self._thread.join(5)

    # --- the ID token, honest or not ------------------------------------------------------

    def tamper(self, id_token: str) -> str:
        """Re-issue an honest ID token the way the switches say."""
        bad = self.misbehave
        if bad.id_token_alg == "RS256" and bad.nonce is None and bad.iss is None and bad.aud is None:
            return id_token
        claims = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "=="))
        if bad.nonce is not None:
            claims["nonce"] = bad.nonce
        if bad.iss is not None:
            claims["iss"] = bad.iss
        if bad.aud is not None:
            claims["aud"] = [bad.aud]
        if bad.id_token_alg == "RS256":
            return jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, self.key)
        if bad.id_token_alg == "RS256-foreign-key":
            return jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, self.foreign_key)
        body = _b64(json.dumps(claims).encode())
        if bad.id_token_alg == "none":
            return f"{_b64(json.dumps({'alg': 'none'}).encode())}.{body}."
        # HS256 keyed with the public key: the classic algorithm-confusion forgery.
        header = _b64(json.dumps({"alg": "HS256", "kid": "test-key-1"}).encode())
        public_pem = self.key.as_pem(private=False)
        signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{_b64(signature)}"

    # --- the Flask app --------------------------------------------------------------------

    def _flask(self) -> Flask:
        provider = self
        app = Flask("test_oidc_provider")
        app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

            def save_authorization_code(self, code: str, req: Any) -> None:
                provider.codes[code] = _Code(
                    code=code,
                    client_id=req.client.client_id,
                    redirect_uri=req.payload.redirect_uri,
                    scope=req.payload.scope,
                    user=req.user,
                    nonce=req.payload.data.get("nonce"),
                    code_challenge=req.payload.data.get("code_challenge"),
                    code_challenge_method=req.payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id and not found.is_expired() else None

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> Identity:
                return authorization_code.user

        class IDToken(OpenIDCode):  # type: ignore[misc]
            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: _Client) -> Any:
                return provider.key

            def get_client_algorithm(self, client: _Client) -> str:
                return "RS256"

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def generate_user_info(self, user: Identity, scope: str) -> UserInfo:
                return _user_info(user, scope)

            def encode_id_token(self, token: dict[str, Any], req: Any) -> str:
                return provider.tamper(super().encode_id_token(token, req))

        class Issuer(IssuerParameter):  # type: ignore[misc]
            def get_issuer(self) -> str | None:
                value = provider.misbehave.iss_param
                return provider.issuer if value == "own" else value

        def save_token(token: dict[str, Any], req: Any) -> None:
            saved = _Token(
                token["access_token"], token.get("scope", ""), req.user, req.client.client_id, time.time() + 3600
            )
            provider.tokens[token["access_token"]] = saved
            if token.get("refresh_token"):
                provider.refresh_tokens[token["refresh_token"]] = saved

        server = AuthorizationServer(
            app, query_client=lambda cid: provider.client if cid == CLIENT_ID else None, save_token=save_token
        )
        server.register_grant(CodeGrant, [CodeChallenge(required=True), IDToken(require_nonce=True)])
        server.register_extension(Issuer())

        class Refresh(grants.RefreshTokenGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012
            INCLUDE_NEW_REFRESH_TOKEN = True

            def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
                return provider.refresh_tokens.get(refresh_token)

            def authenticate_user(self, credential: _Token) -> Identity:
                return credential.user

            def revoke_old_credential(self, credential: _Token) -> None:
                for table in (provider.refresh_tokens, provider.tokens):
                    for key in [k for k, v in table.items() if v is credential]:
                        del table[key]

        server.register_grant(Refresh)

        class Bearer(BearerTokenValidator):  # type: ignore[misc]
            def authenticate_token(self, token_string: str) -> _Token | None:
                return provider.tokens.get(token_string)

        protect = ResourceProtector()
        protect.register_token_validator(Bearer())

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            base = provider.issuer
            return jsonify(
                issuer=base,
                authorization_endpoint=f"{base}/authorize",
                token_endpoint=f"{base}/token",
                userinfo_endpoint=f"{base}/userinfo",
                jwks_uri=f"{base}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                scopes_supported=["openid", "email", "profile"],
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
                authorization_response_iss_parameter_supported=True,
            )

        @app.get("/favicon.ico")
        def favicon() -> Response:
            return Response(status=204)

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(keys=[provider.key.as_dict(private=False)])

        @app.get("/authorize")
        def consent() -> Any:
            try:
                grant = server.get_consent_grant(end_user=provider.identity)
            except Exception as error:
                return Response(f"<h1>Invalid request</h1><p>{escape(str(error))}</p>", status=400)
            who = provider.identity
            query = escape(urlencode(request.args))
            return Response(
                f"""<!doctype html><html><head><title>{LABEL}: consent</title></head><body>
<h1>{LABEL}</h1>
<p><strong>{escape(grant.client.client_id)}</strong> wants to know who you are.</p>
<p>Signed in as <span id="who">{escape(who.name)} ({escape(who.email)})</span>.</p>
<form method="post" action="/authorize?{query}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>""",
                content_type="text/html",
            )

        @app.post("/authorize")
        def decide() -> Any:
            user = provider.identity if request.form.get("decision") == "approve" else None
            grant = server.get_consent_grant(end_user=provider.identity)
            return server.create_authorization_response(grant=grant, grant_user=user)

        @app.post("/token")
        def token() -> Any:
            provider.token_requests.append(dict(request.form))
            response = server.create_token_response()
            if response.is_json and (provider.misbehave.drop_id_token or provider.misbehave.expires_in is not None):
                body = response.get_json()
                if provider.misbehave.drop_id_token:
                    body.pop("id_token", None)
                if provider.misbehave.expires_in is not None:
                    body["expires_in"] = provider.misbehave.expires_in
                response.set_data(json.dumps(body))
            return response

        @app.get("/userinfo")
        def userinfo() -> Any:
            token = protect.acquire_token()
            return jsonify(dict(_user_info(token.user, token.scope)))

        @app.get("/github/user")
        def github_user() -> Any:
            """GitHub's shape of the same person (a plain OAuth 2.0 provider: no ID token)."""
            user = protect.acquire_token().user
            number = int(user.sub[:8], 16)
            return jsonify(id=number, login="ghopper", name=user.name, avatar_url=user.picture)

        @app.get("/github/user/emails")
        def github_emails() -> Any:
            user = protect.acquire_token().user
            others = {"email": "old@example.com", "primary": False, "verified": True}
            return jsonify([others, {"email": user.email, "primary": True, "verified": user.email_verified}])

        return app


def _user_info(user: Identity, scope: str) -> UserInfo:
    info = UserInfo(sub=user.sub)
    if "email" in scope:
        info["email"] = user.email
        info["email_verified"] = user.email_verified
    if "profile" in scope:
        info["name"] = user.name
        info["picture"] = user.picture
    return info
