"""Magic link: passwordless sign-in by an emailed link (5 minutes, single use, stored hashed)."""

from pathlib import Path

from app.core.features import Feature
from app.features.magic_link.routes import API_HANDLERS
from app.features.magic_link.settings import check_settings
from app.features.magic_link.views import VIEWS

HERE = Path(__file__).resolve().parent

FEATURE = Feature(
    name="magic_link",
    route_handlers=[*API_HANDLERS, VIEWS],
    templates_dir=HERE / "templates",
    sign_in_options=["magic_link/sign_in_option.html"],
    check_settings=check_settings,
)
