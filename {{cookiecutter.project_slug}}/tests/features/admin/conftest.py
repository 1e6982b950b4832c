"""Fixtures of the admin console's tests: `people(role, ...)` signs up users, each in a browser of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from litestar import Litestar

from tests.features.admin.helpers import Person, person

People = Callable[..., Awaitable[Person]]


@pytest.fixture
async def people(app: Litestar) -> AsyncIterator[People]:
    made: list[Person] = []

    async def make(role: str | None = None, email: str | None = None) -> Person:
        made.append(await person(app, role, email))
        return made[-1]

    yield make
    for each in made:
        await each.client.aclose()
