from pathlib import Path

from app.core.ui import UI, Section
from app.features.base import Feature
from app.features.passkeys.routes import API
from app.features.passkeys.second_factor import PASSKEY_SECOND_FACTOR, SECOND_FACTOR_HANDLERS
from app.features.passkeys.settings import PasskeySettings
from app.features.passkeys.signup import sign_up_allowed
from app.features.passkeys.signup_web import SIGN_UP_HANDLERS
from app.features.passkeys.views import NOTICES, VIEWS, section_context
from app.features.passkeys.web import setup

HERE = Path(__file__).resolve().parent

FEATURE = Feature(
    name="passkeys",
    routes=[API, VIEWS, *SECOND_FACTOR_HANDLERS, *SIGN_UP_HANDLERS],
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    settings=PasskeySettings,
    setup=setup,
    second_factors=[PASSKEY_SECOND_FACTOR],
    ui=UI(
        slots={"sign_in": ["passkeys/sign_in_option.html"], "reauth": ["passkeys/reauth_option.html"]},
        sections=[Section("passkeys", "passkeys/section.html", section_context)],
        scripts=["/static/passkeys/passkeys.js"],
        stylesheets=["/static/passkeys/passkeys.css"],
        notices=NOTICES,
        labels={"passkey": "Passkey"},
        globals={"passkey_sign_up_allowed": sign_up_allowed},
    ),
)
