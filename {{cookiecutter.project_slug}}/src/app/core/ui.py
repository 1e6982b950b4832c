"""Rendering pages: the template engine set-up, the common page context, flash notices, htmx redirects, form errors.

Pages are full documents; with htmx (`hx-boost` on the body) the same response replaces the
body in place, so a form keeps working without JavaScript and shows inline errors with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from litestar.utils import url_quote
from markupsafe import Markup

from app.core.errors import AppError

FLASH_COOKIE = "flash"
# Flash notices are keys into this table (and the features' UI.notices), never text from the
# request, so they cannot inject content.
NOTICES: dict[str, str] = {
    "signed-out": "You are signed out.",
    "password-changed": "Your password has been changed.",
    "password-reset": "Your password has been reset. Sign in with the new one.",
    "profile-updated": "Your profile has been saved.",
    "email-change-sent": "Check your new inbox: we sent a link to confirm the change.",
    "email-changed": "Your email address has been changed.",
    "email-verified": "Your email address is verified.",
    "account-deleted": "Your account has been deleted.",
    "reauthenticated": "Thanks, you can continue.",
    "session-revoked": "That device is signed out.",
    "session-gone": "That session had already ended.",
    "other-sessions-revoked": "Your other devices are signed out.",
    "signed-out-everywhere": "You are signed out on every device.",
    "verification-sent": "If that address is waiting for verification, a new link is on its way.",
    "second-factor-expired": "Your sign-in expired before the second step. Sign in again.",
    "second-factor-cancelled": "Sign-in cancelled.",
    "trusted-device-revoked": "That browser will ask for your second step again.",
    "trusted-devices-revoked": "Every browser will ask for your second step again.",
}


@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation of signed-in pages."""

    label: str
    path: str
    # Shown only to users who hold one of these roles (a page for staff, say); None shows it to
    # everyone. A user's `role` may name several, joined by commas ("admin,support").
    roles: frozenset[str] | None = None

    def shown_to(self, role: str | None) -> bool:
        """Whether a user with `role` sees this entry."""
        return self.roles is None or any(name.strip() in self.roles for name in (role or "").split(","))


@dataclass(frozen=True)
class Section:
    """A card on a page about one user: its template, and the data it shows under `<page's name>[key]`.

    The security page (`UI.sections`) shows them under `security[key]`, the page about one user
    that staff see (`UI.staff_sections`) under `staff[key]`.
    """

    key: str
    template: str
    # Called with the request's database session and whom the page is about: the signed-in principal
    # on the security page, the user's row on a staff page. None when the card needs no data.
    context: Callable[[Any, Any], Awaitable[Mapping[str, Any]]] | None = None


SLOTS = ("sign_in", "reauth", "header", "banner")  # where the shared pages include templates of other parts


@dataclass(frozen=True)
class UI:
    """What a part of the app shows in the shared pages, by slot; `merge` joins several.

    `slots` maps a slot to templates included there: "sign_in" below the sign-in form, "reauth"
    below the re-authentication form, "header" in the header of signed-in pages, "banner" above
    it (a notice about the session itself, on every signed-in page). `sections` are cards on the
    signed-in user's security page; `staff_sections` are cards on the page about one user that the
    people who run the app see (whatever part offers such a page): what the part keeps of that
    user, read-only, each card's context called with (database session, the user's row) and
    bounded (a user with 10,000 rows of it shows the newest and a count). `labels` names
    values the part introduces (a sign-in method's key, or the provider id of the accounts it
    links -> its words, shown in session lists and among a user's sign-in methods).
    `scripts` and `stylesheets` are URLs every page loads: htmx swaps do not run a page's own
    <script> tags, so behaviour is attached from the layout, by delegation. `globals` are
    functions and values templates may call.
    """

    nav: Sequence[NavEntry] = ()
    slots: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sections: Sequence[Section] = ()
    staff_sections: Sequence[Section] = ()
    scripts: Sequence[str] = ()
    stylesheets: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    globals: Mapping[str, Any] = field(default_factory=dict)
    # Flash notices the part shows after a redirect (key -> text), besides the core's NOTICES.
    notices: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.slots) - set(SLOTS)
        if unknown:
            raise ValueError(f"unknown UI slots {sorted(unknown)}; the pages have {list(SLOTS)}")

    @classmethod
    def merge(cls, parts: Iterable[UI]) -> UI:
        """All parts' entries, in order."""
        parts = list(parts)
        return cls(
            nav=[entry for part in parts for entry in part.nav],
            slots={slot: [t for part in parts for t in part.slots.get(slot, ())] for slot in SLOTS},
            sections=[section for part in parts for section in part.sections],
            staff_sections=[section for part in parts for section in part.staff_sections],
            scripts=[src for part in parts for src in part.scripts],
            stylesheets=[href for part in parts for href in part.stylesheets],
            labels={k: v for part in parts for k, v in part.labels.items()},
            globals={k: v for part in parts for k, v in part.globals.items()},
            notices=NOTICES | {k: v for part in parts for k, v in part.notices.items()},
        )


def template_config(
    directories: Sequence[Path], template_globals: Mapping[str, Any] | None = None
) -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja with autoescaping, searching the core, auth and feature template folders in order."""
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in directories]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["moment"] = moment
    environment.globals.update(template_globals or {})
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def moment(value: datetime) -> Markup:
    """A moment on a page, the one way every page shows one: a <time> element whose text is UTC
    ("3 May 2026, 14:05 UTC") and which app.js rewrites in the reader's own time zone."""
    return Markup('<time datetime="{}" data-local>{}</time>').format(machine_time(value), when(value))


def when(moment: datetime) -> str:
    """A moment for people, in UTC: "3 May 2026, 14:05 UTC" (app.js shows it in the reader's time zone)."""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def machine_time(moment: datetime) -> str:
    """A moment for the `datetime` attribute of <time>: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """True for requests made by htmx (boosted links and forms)."""
    return request.headers.get("hx-request") == "true"


def flash_cookie(notice: str) -> Cookie:
    """The cookie that carries `notice` (a NOTICES key) to the next full page for a minute; '' clears it.

    Unlike app.core.cookies' cookies it keeps one name and no Secure flag in every environment:
    it holds only a key into NOTICES, nothing worth protecting.
    """
    return Cookie(key=FLASH_COOKIE, value=notice, max_age=60 if notice else 0, path="/", httponly=True, samesite="lax")


def page(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    cookies: Sequence[Cookie] = (),
    **context: Any,
) -> Template:
    """Render a page with the common context: user, app name, navigation, flash notice.

    The flash notice is shown, and cleared, by full pages only (a navigation, or one that htmx
    boosts). A fragment that htmx loads into a page (a switcher in the header, say) leaves it:
    such a request may still be in flight from the page being left when the notice is set, and
    would otherwise take the notice that the next page should show.
    """
    state = request.app.state
    ui: UI = state.ui
    full_page = not is_htmx(request) or request.headers.get("hx-boosted") == "true"
    notice = ui.notices.get(request.cookies.get(FLASH_COOKIE, "")) if full_page else None
    cookie_list = list(cookies)
    if notice:
        cookie_list.append(flash_cookie(""))
    user = request.scope.get("user")
    role = getattr(user, "role", None)
    common: dict[str, Any] = {
        "user": user,
        "app_name": state.settings.app.name,
        "nav": [entry for entry in ui.nav if entry.shown_to(role)],
        "sign_in_options": ui.slots["sign_in"],
        "reauth_options": ui.slots["reauth"],
        "feature_scripts": ui.scripts,
        "feature_stylesheets": ui.stylesheets,
        "header_items": ui.slots["header"],
        "banner_items": ui.slots["banner"],
        "notice": notice,
        "password_min_length": state.settings.auth.password_min_length,
        "path": request.scope["path"],  # not request.url: a malformed Host header breaks it
        "form": {},
        "errors": {},
    }
    # A boosted form's answer would put its POST-only address in the history: a reload would then
    # ask for it with a GET (405). The address bar keeps the page the form was on instead.
    boosted_post = request.method != "GET" and request.headers.get("hx-boosted") == "true"
    return Template(
        template_name=template,
        context=common | context,
        status_code=status_code,
        cookies=cookie_list,
        headers={"HX-Push-Url": "false"} if boosted_post else None,
        media_type=MediaType.HTML,
    )


def redirect(
    request: Request[Any, Any, Any], location: str, notice: str | None = None, cookies: Sequence[Cookie] = ()
) -> Response[Any]:
    """303 to `location`; for htmx a full navigation through HX-Redirect. `notice` is a NOTICES key."""
    cookie_list = list(cookies)
    if notice:
        cookie_list.append(flash_cookie(notice))
    if is_htmx(request):  # a header carries Latin-1 only: percent-encoded as Litestar encodes Location
        return Response(None, status_code=200, headers={"HX-Redirect": url_quote(location)}, cookies=cookie_list)
    return Redirect(location, status_code=303, cookies=cookie_list)


def form_error(
    error: AppError, form: Mapping[str, Any] | None = None, renamed: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A service's error as the context of the form re-rendered with it (see form_error_status).

    The message goes next to its field (`errors`), or above the form (`form_error`) when it names
    none; `renamed` maps the service's field names (the JSON API's `newPassword`) to the form's.
    With `form`, what was typed is kept, passwords never.
    """
    field = (renamed or {}).get(error.field, error.field) if error.field else None
    context: dict[str, Any] = {
        "errors": {field: error.message} if field else {},
        "form_error": None if field else error.message,
    }
    if form is not None:
        context["form"] = {k: v for k, v in form.items() if "password" not in k.lower()}
    return context


def form_error_status(error: AppError) -> int:
    """The status of a form re-rendered with a service's error: 429 when over a limit, else 422."""
    return 429 if error.status_code == 429 else 422


async def form_data(request: Request[Any, Any, Any], fields: Sequence[str]) -> dict[str, str]:
    """The named fields of a submitted form as stripped-of-nothing strings ('' when absent)."""
    raw: Mapping[str, Any] = await request.form()
    return {name: value if isinstance(value := raw.get(name, ""), str) else "" for name in fields}
