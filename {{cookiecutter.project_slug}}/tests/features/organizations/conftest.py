"""Fixtures of the organization tests: `people(n)` signs up n users, each in a browser of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from litestar import Litestar

from tests.features.organizations.helpers import Person, person

People = Callable[..., Awaitable[list[Person]]]


@pytest.fixture
async def people(app: Litestar) -> AsyncIterator[People]:
    made: list[Person] = []

    async def make(count: int, *names: str) -> list[Person]:
        batch = [await person(app, names[i] if i < len(names) else "Ada Lovelace") for i in range(count)]
        made.extend(batch)
        return batch

    yield make
    for each in made:
        await each.client.aclose()
