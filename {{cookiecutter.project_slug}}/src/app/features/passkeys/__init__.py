from pathlib import Path

from app.core.event_catalogue import THE_USER, EventInfo
from app.core.ui import UI, Section
from app.features.base import Feature
from app.features.passkeys.routes import API
from app.features.passkeys.second_factor import PASSKEY_SECOND_FACTOR, SECOND_FACTOR_HANDLERS
from app.features.passkeys.settings import PasskeySettings
from app.features.passkeys.signup import sign_up_allowed
from app.features.passkeys.signup_web import SIGN_UP_HANDLERS
from app.features.passkeys.staff_section import staff_context
from app.features.passkeys.views import NOTICES, VIEWS, section_context
from app.features.passkeys.web import setup

HERE = Path(__file__).resolve().parent

EVENTS = {
    "passkey.registered": EventInfo(
        "The user added a passkey, or signed up with one (`aaguid`: the authenticator's model)", THE_USER, "passkey"
    ),
    "passkey.renamed": EventInfo("The user renamed a passkey", THE_USER, "passkey"),
    "passkey.removed": EventInfo("The user removed a passkey (`passkey_name`)", THE_USER, "passkey"),
    "passkey.used": EventInfo(
        "A passkey was verified (`purpose`: sign-in, second factor, re-authentication)", THE_USER, "passkey"
    ),
    "passkey.failed": EventInfo(
        "A passkey was refused (`purpose`, `reason`); the target is its user when known", "nobody", "user"
    ),
}

FEATURE = Feature(
    name="passkeys",
    routes=[API, VIEWS, *SECOND_FACTOR_HANDLERS, *SIGN_UP_HANDLERS],
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    settings=PasskeySettings,
    setup=setup,
    events=EVENTS,
    second_factors=[PASSKEY_SECOND_FACTOR],
    ui=UI(
        slots={"sign_in": ["passkeys/sign_in_option.html"], "reauth": ["passkeys/reauth_option.html"]},
        sections=[Section("passkeys", "passkeys/section.html", section_context)],
        staff_sections=[Section("passkeys", "passkeys/staff_section.html", staff_context)],
        scripts=["/static/passkeys/passkeys.js"],
        stylesheets=["/static/passkeys/passkeys.css"],
        notices=NOTICES,
        labels={"passkey": "Passkey"},
        globals={"passkey_sign_up_allowed": sign_up_allowed},
    ),
)
