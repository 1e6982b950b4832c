"""Passkeys (WebAuthn, with py_webauthn): register passkeys from the security page and sign in with them.

Sign-in works from a button on the sign-in page and from the browser's autofill in the email
field (conditional UI). A passkey with user verification is two factors in one. See docs/passkeys.md.
"""

from pathlib import Path

from app.core.features import Feature
from app.features.passkeys.routes import API
from app.features.passkeys.second_factor import PASSKEY_SECOND_FACTOR, SECOND_FACTOR_HANDLERS
from app.features.passkeys.service import count_passkeys
from app.features.passkeys.settings import check_settings
from app.features.passkeys.signup import sign_up_allowed
from app.features.passkeys.signup_web import SIGN_UP_HANDLERS
from app.features.passkeys.views import VIEWS, section_context

HERE = Path(__file__).resolve().parent

FEATURE = Feature(
    name="passkeys",
    route_handlers=[API, VIEWS, *SECOND_FACTOR_HANDLERS, *SIGN_UP_HANDLERS],
    templates_dir=HERE / "templates",
    static_dir=HERE / "static",
    migrations_dir=HERE / "migrations",
    sign_in_options=["passkeys/sign_in_option.html"],
    reauth_options=["passkeys/reauth_option.html"],
    check_settings=check_settings,
    security_sections=["passkeys/section.html"],
    security_context=section_context,
    second_factors=[PASSKEY_SECOND_FACTOR],
    sign_in_methods=count_passkeys,
    template_globals={"passkey_sign_up_allowed": sign_up_allowed},
    scripts=["/static/passkeys/passkeys.js"],
    stylesheets=["/static/passkeys/passkeys.css"],
)
