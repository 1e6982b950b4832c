"""The auth core, always on: users, accounts, sessions, passwords, verification and reset.

`__all__` is its public surface: what features may import (`from app.auth import AuthKit`). The
rest of `app.auth` is the core's own and may change; `make lint` (import-linter) refuses a
feature that imports it.
"""

from app.auth.account_views import render_security
from app.auth.credentials import Authenticator, Caller, CurrentCaller, require_scope
from app.auth.devices import describe
from app.auth.flows.account import ban_user, edit_profile, remove_user, unban_user
from app.auth.flows.email import claim_unverified
from app.auth.flows.password import request_password_reset, set_password
from app.auth.guards import fresh_session
from app.auth.kit import AuthKit, Challenge, SignInOutcome, SignInResult
from app.auth.models import CREDENTIAL_PROVIDER, Account, Session, User, banned_at
from app.auth.schemas import iso, user_json
from app.auth.second_factor import (
    InvalidSecondFactor,
    SecondFactor,
    SecondFactorExpired,
    challenge_response,
    pending_token,
    session_cookies,
)
from app.auth.second_factor_views import challenge_page
from app.auth.session_control import method_label
from app.auth.sessions import Principal, SessionField
from app.auth.web import DB, Auth, Control, CurrentUser, MaybePrincipal, Resumed, request_meta, wants_token

__all__ = [
    "CREDENTIAL_PROVIDER",
    "DB",
    "Account",
    "Auth",
    "AuthKit",
    "Authenticator",
    "Caller",
    "Challenge",
    "Control",
    "CurrentCaller",
    "CurrentUser",
    "InvalidSecondFactor",
    "MaybePrincipal",
    "Principal",
    "Resumed",
    "SecondFactor",
    "SecondFactorExpired",
    "Session",
    "SessionField",
    "SignInOutcome",
    "SignInResult",
    "User",
    "ban_user",
    "banned_at",
    "challenge_page",
    "challenge_response",
    "claim_unverified",
    "describe",
    "edit_profile",
    "fresh_session",
    "iso",
    "method_label",
    "pending_token",
    "remove_user",
    "render_security",
    "request_meta",
    "request_password_reset",
    "require_scope",
    "session_cookies",
    "set_password",
    "unban_user",
    "user_json",
    "wants_token",
]
