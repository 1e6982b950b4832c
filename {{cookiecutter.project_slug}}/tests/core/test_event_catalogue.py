"""The event catalogue: every event the code records is declared with its meaning, and
docs/audit-events.md is exactly what `app audit events` prints for it."""

from __future__ import annotations

import ast
import difflib
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from litestar import Litestar
from sqlmodel import col, func, select

from app.asgi import PARTS, gather
from app.auth import AuthKit
from app.core.audit import AuditLog
from app.core.event_catalogue import EventCatalogue, EventInfo, UncataloguedEvent
from app.core.events import CORE_EVENTS, EventBus, EventName, RequestMeta
from app.features.base import Feature
from tests.cli import run_app

PROJECT = Path(__file__).resolve().parents[2]
SOURCES = PROJECT / "src" / "app"
PAGE = PROJECT / "docs" / "audit-events.md"
REGENERATE = "app audit events > docs/audit-events.md"


def _differences(page: str, catalogue: str) -> str:
    diff = difflib.unified_diff(
        page.splitlines(keepends=True), catalogue.splitlines(keepends=True), "docs/audit-events.md", "the code"
    )
    return f"docs/audit-events.md is not the event catalogue; regenerate it with `{REGENERATE}`:\n{''.join(diff)}"


def test_the_docs_page_is_the_catalogue() -> None:
    page, catalogue = PAGE.read_text(encoding="utf-8"), PARTS.catalogue.markdown()
    assert page == catalogue, _differences(page, catalogue)


def test_the_command_prints_the_page(database_url: str) -> None:
    printed = run_app("audit", "events", env={"DATABASE_URL": database_url, "APP_ENV": "test"})
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == PARTS.catalogue.markdown()


# --- the code against the catalogue ------------------------------------------------------


def _record_calls() -> Iterator[tuple[str, ModuleType, ast.Call]]:
    """Every `<kit>.record(db, name, meta, actor=..., target_type=...)` in the app's code, with its module."""
    for path in sorted(SOURCES.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "record"
            and any(keyword.arg == "target_type" for keyword in node.keywords)
        ]
        if calls:
            module = importlib.import_module(".".join(path.relative_to(SOURCES.parent).with_suffix("").parts))
            for call in sorted(calls, key=lambda call: call.lineno):
                yield f"{path.relative_to(PROJECT)}:{call.lineno}", module, call


def _value(expr: ast.expr, module: ModuleType) -> Any:
    """What a literal, a module-level name (`ROLE_SET`) or an attribute of one (`EventName.USER_CREATED`) is."""
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.Name):
        return getattr(module, expr.id, None)
    if isinstance(expr, ast.Attribute):
        return getattr(_value(expr.value, module), expr.attr, None)
    return None


def _names(expr: ast.expr, module: ModuleType) -> list[str] | None:
    """The event names an argument may be (both sides of `A if ... else B`); None when not a constant."""
    if isinstance(expr, ast.IfExp):
        body, orelse = _names(expr.body, module), _names(expr.orelse, module)
        return None if body is None or orelse is None else body + orelse
    value = _value(expr, module)
    return [str(value)] if isinstance(value, str) else None


def _recorded() -> tuple[set[str], list[str]]:
    """Every name the code records; and the calls that disagree with the catalogue or cannot be checked."""
    recorded: set[str] = set()
    problems = []
    for where, module, call in _record_calls():
        argument = call.args[1] if len(call.args) > 1 else next(k.value for k in call.keywords if k.arg == "name")
        names = _names(argument, module)
        target = next(k.value for k in call.keywords if k.arg == "target_type")
        target_type = target.value if isinstance(target, ast.Constant) and isinstance(target.value, str) else None
        if names is None:
            problems.append(f"{where}: the event name `{ast.unparse(argument)}` is not a literal or a constant")
        if target_type is None:
            problems.append(f"{where}: the target type `{ast.unparse(target)}` is not a literal")
        for name in names or []:
            if name not in PARTS.catalogue:
                problems.append(f"{where}: `{name}` is not in the event catalogue; declare it with its meaning")
            elif target_type is not None and target_type != (declared := PARTS.catalogue[name].target):
                problems.append(f"{where}: `{name}` targets {target_type!r}, its catalogue entry {declared!r}")
            recorded.add(name)
    return recorded, problems


def test_every_recorded_event_is_declared_with_its_target() -> None:
    recorded, problems = _recorded()
    assert problems == [], "\n".join(problems)
    assert set(EventName) <= recorded, "the scan missed calls of the kit's record()"


def test_every_declared_event_is_recorded_somewhere() -> None:
    recorded, _ = _recorded()
    unused = sorted(set(PARTS.catalogue) - recorded)
    assert unused == [], f"declared but recorded nowhere (remove them from the catalogue): {unused}"


def test_every_name_of_the_core_has_a_meaning() -> None:
    assert set(EventName) == set(CORE_EVENTS)


# --- refusals ----------------------------------------------------------------------------


async def test_recording_an_undeclared_event_raises_and_writes_nothing(app: Litestar) -> None:
    kit: AuthKit = app.state.auth
    async with kit.db.sessions() as db:
        with pytest.raises(UncataloguedEvent, match=re.escape("'report.generated' is not in the event catalogue")):
            await kit.record(db, "report.generated", RequestMeta(), actor=None, target_type="report")
        await db.commit()
        written = (await db.exec(select(func.count()).where(col(AuditLog.event) == "report.generated"))).one()
    assert written == 0


def test_listening_for_an_undeclared_event_raises() -> None:
    async def listener(*_: object) -> None:
        """Never called."""

    bus = EventBus(PARTS.catalogue)
    with pytest.raises(UncataloguedEvent):
        bus.subscribe("user.create", listener)  # a typo of user.created
    bus.subscribe(EventName.USER_CREATED, listener)
    bus.subscribe("*", listener)


def test_a_feature_cannot_declare_an_event_again() -> None:
    again = Feature(name="reports", events={EventName.USER_CREATED: EventInfo("Again", "the user", "user")})
    with pytest.raises(ValueError, match=re.escape("'user.created' is declared twice")):
        _ = gather([again]).catalogue


@pytest.mark.parametrize("name", ["created", "Report.Generated", "report.generated.twice", "report." + "x" * 60])
def test_names_are_a_subject_and_what_happened(name: str) -> None:
    with pytest.raises(ValueError, match=re.escape("is not `<subject>.<what happened>`")):
        EventCatalogue([("reports", {name: EventInfo("Something", "the user", "report")})])
