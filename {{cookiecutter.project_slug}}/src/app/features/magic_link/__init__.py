from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.auth import AuthKit
from app.core.event_catalogue import NOBODY, EventInfo
from app.core.ui import UI
from app.features.base import Feature, Paths
from app.features.magic_link.routes import API_HANDLERS
from app.features.magic_link.service import LINK_REQUESTED, METHOD, STATE_KEY, MagicLinks
from app.features.magic_link.settings import MagicLinkSettings
from app.features.magic_link.views import VIEWS
from app.settings import Settings

HERE = Path(__file__).resolve().parent

EVENTS = {LINK_REQUESTED: EventInfo("A sign-in link was mailed to the account's address", NOBODY, "user")}


def setup(kit: AuthKit, settings: Settings) -> Mapping[str, Any]:
    """The feature's service, in app.state (see app.features.magic_link.service.service_for)."""
    return {STATE_KEY: MagicLinks(kit, settings.feature(MagicLinkSettings))}


FEATURE = Feature(
    name="magic_link",
    routes=[*API_HANDLERS, VIEWS],
    templates=HERE / "templates",
    settings=MagicLinkSettings,
    setup=setup,
    events=EVENTS,
    paths=Paths(no_store=["/magic-link"]),
    ui=UI(slots={"sign_in": ["magic_link/sign_in_option.html"]}, labels={METHOD: "Magic link"}),
)
