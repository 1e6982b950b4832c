"""The OpenAPI schema (/schema/openapi.json) says what each route answers, its errors included.

Every error answer is `{"code", "message"}` (app.core.errors), documented once as the `ErrorBody`
component. Each operation lists the statuses it can answer with and, for each status, the stable
codes behind it (as examples), gathered from what the request passes through:

- the request gate (app.core.gate), on every route but the probes: 429 over a rate limit, 503 when
  a dependency cannot answer, and the refusals of a credential a feature adds (one not valid ...);
  on unsafe methods, 403 INVALID_ORIGIN (unless the path is exempt) and 409 CONFLICT (a concurrent
  write of the same unique value: app.core.errors.database_error_handler);
- its input, when it takes a body or parameters: 400 (not valid, not readable), and 413 for a body;
- what its handler, the dependencies it uses and its guards declare with `@raises(...)`:
  `@raises(SessionNotFound)` under the route's decorator, or on a dependency's provider or a guard.

A 429 always carries Retry-After; a 503 does when trying again later helps (SERVICE_UNAVAILABLE).
Litestar's own `raises=` documents its HTTPException shape (`detail`, `status_code`), not ours:
AppErrors are declared with `@raises`, and `ErrorResponses` (a route plugin) turns the
declarations into each handler's `responses` when the route is registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Example, OpenAPIHeader, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from app.core.errors import (
    CONFLICT,
    HTTP_CODES,
    RATE_LIMITED,
    UNREADABLE,
    AppError,
    InvalidInput,
    InvalidOrigin,
    ServiceUnavailable,
)
from app.core.gate import SKIPPED_PATHS, SKIPPED_PREFIX
from app.core.security import SAFE_METHODS

F = TypeVar("F", bound=Callable[..., Any])
ERRORS_ATTRIBUTE = "__app_errors__"  # where @raises keeps its declaration on a function


class ErrorBody(msgspec.Struct):
    """Every error answer: a stable code to act on, and a message for people."""

    code: Annotated[str, msgspec.Meta(description="Stable, upper case: what went wrong (e.g. INVALID_TOKEN)")]
    message: Annotated[str, msgspec.Meta(description="What went wrong and what to do, for people")]


def raises(*errors: type[AppError]) -> Callable[[F], F]:
    """Declare the errors a route handler, a dependency's provider or a guard may answer with.

    Only the OpenAPI schema reads it (see the module's docstring); declare what the function
    raises itself and what the services it calls raise, not what the gate or input parsing add.
    """

    def declare(function: F) -> F:
        setattr(function, ERRORS_ATTRIBUTE, (*getattr(function, ERRORS_ATTRIBUTE, ()), *errors))
        return function

    return declare


@dataclass(frozen=True)
class ErrorDoc:
    """One documented error: its status, code and (default) message."""

    status: int
    code: str
    message: str

    @classmethod
    def of(cls, error: type[AppError]) -> ErrorDoc:
        return cls(error.status_code, error.code, error.default_message)


# What app.core.errors answers for the gate's rate limit, a unique value written twice at once, a
# body that cannot be decoded or is over the app's limit (Litestar's own message).
GATE_ERRORS = (ErrorDoc(429, HTTP_CODES[429], RATE_LIMITED), ErrorDoc.of(ServiceUnavailable))
UNSAFE_METHOD_ERRORS = (ErrorDoc(409, HTTP_CODES[409], CONFLICT),)
INPUT_ERRORS = (ErrorDoc.of(InvalidInput),)
BODY_ERRORS = (ErrorDoc(400, HTTP_CODES[400], UNREADABLE), ErrorDoc(413, HTTP_CODES[413], "Request Entity Too Large"))


@dataclass
class RetryAfterOperation(Operation):
    """An operation whose 429 answer says it carries Retry-After (every one does: app.core.errors), and
    whose 503 answer that it may (SERVICE_UNAVAILABLE does; a feature that is not configured does not)."""

    def __post_init__(self) -> None:
        for status, required in (("429", True), ("503", False)):
            response = (self.responses or {}).get(status)
            if response is not None and hasattr(response, "headers"):
                response.headers = {"Retry-After": _retry_after_header(required)}


def _retry_after_header(required: bool) -> OpenAPIHeader:
    when = "" if required else " (with SERVICE_UNAVAILABLE: trying again later helps)"
    return OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
        description=f"Seconds to wait before trying again{when}.",
        required=required,
    )


class ErrorResponses(ReceiveRoutePlugin):
    """A route plugin: documents each registered handler's error answers (see the module's docstring).

    `unsafe_exempt`: paths the origin check does not apply to (app.core.security.OriginCheck).
    `credential_checks`: the functions that check a feature's credential on any request carrying
    one (the authenticators of app.auth.credentials), whose `@raises` every gated route documents.
    """

    def __init__(self, unsafe_exempt: Collection[str] = (), credential_checks: Sequence[Callable[..., Any]] = ()):
        self.unsafe_exempt = frozenset(unsafe_exempt)
        self.credential_errors = tuple(ErrorDoc.of(e) for check in credential_checks for e in _declared(check))

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema():
                handler.responses = _responses({**(handler.responses or {})}, self.errors_of(route.path, handler))
                if handler.operation_class is Operation:
                    handler.operation_class = RetryAfterOperation

    def errors_of(self, path: str, handler: HTTPRouteHandler) -> list[ErrorDoc]:
        """What this handler's route may answer besides success, in the order of the schema's examples."""
        providers = _providers_used(handler)
        errors: list[ErrorDoc] = []
        parameters = {*handler.parsed_fn_signature.parameters}
        parameters = parameters.union(*(inspect.signature(provider).parameters for provider in providers))
        takes_body = "data" in parameters
        if takes_body or parameters - handler.resolve_dependencies().keys() - RESERVED_KWARGS:
            errors += INPUT_ERRORS
        if takes_body:
            errors += BODY_ERRORS
        for function in (handler.fn, *handler.resolve_guards(), *providers):
            errors += (ErrorDoc.of(error) for error in _declared(function))
        if path not in SKIPPED_PATHS and not path.startswith(SKIPPED_PREFIX):
            errors += self.credential_errors
            if not handler.http_methods <= SAFE_METHODS:
                if path not in self.unsafe_exempt:
                    errors.append(ErrorDoc.of(InvalidOrigin))
                errors += UNSAFE_METHOD_ERRORS
            errors += GATE_ERRORS
        return errors


def _declared(function: Callable[..., Any]) -> tuple[type[AppError], ...]:
    errors: tuple[type[AppError], ...] = getattr(function, ERRORS_ATTRIBUTE, ())
    return errors


def _providers_used(handler: HTTPRouteHandler) -> list[Callable[..., Any]]:
    """The providers of the dependencies the handler uses, and of those they use in turn."""
    providers = handler.resolve_dependencies()
    used: dict[str, Callable[..., Any]] = {}
    names = list(handler.parsed_fn_signature.parameters)
    while names:
        name = names.pop()
        if name in providers and name not in used:
            used[name] = providers[name].dependency
            names += inspect.signature(used[name]).parameters
    return list(used.values())


def _responses(declared: dict[int, ResponseSpec], errors: Iterable[ErrorDoc]) -> dict[int, ResponseSpec]:
    """The handler's responses: those it declared itself, and one per error status (codes as examples)."""
    by_status: dict[int, dict[str, ErrorDoc]] = {}
    for error in errors:
        by_status.setdefault(error.status, {}).setdefault(error.code, error)
    for status, codes in sorted(by_status.items()):
        if status in declared:
            continue
        phrase = HTTPStatus(status).phrase
        declared[status] = ResponseSpec(
            data_container=ErrorBody,
            generate_examples=False,
            description=f"{phrase}: {', '.join(codes)}",
            examples=[Example(summary=code, value={"code": code, "message": e.message}) for code, e in codes.items()],
        )
    return declared


def openapi_config(title: str) -> OpenAPIConfig:
    """The spec only, at /schema/openapi.json: documentation UIs load scripts from CDNs, which the CSP forbids."""
    return OpenAPIConfig(title=title, version="0.1.0", path="/schema", render_plugins=[JsonRenderPlugin()])
