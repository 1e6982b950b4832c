"""Many requests at once: every answer is clean, every committed row is there (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlmodel import func, select

from app.auth.models import Session, User
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, AppLog, unique_email
from tests.mailbox import Mailbox

# Limits raised: these tests are about the database, not the rate limits.
UNLIMITED = {"general": 100_000, "sign_in": 100_000, "sign_up": 100_000, "mail_per_address": 100_000}


def browser(app: Litestar, ip: str = "203.0.113.60") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))  # type: ignore[arg-type]  # Litestar's ASGI types
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"origin": BASE_URL}, timeout=60)


async def count(app: Litestar, model: Any) -> int:
    async with app.state.db.sessions() as db:
        return int((await db.exec(select(func.count()).select_from(model))).one())


async def test_parallel_sign_ups_with_one_address_make_one_user_and_the_same_answer(
    make_app: AppFactory, mailbox: Mailbox, app_log: AppLog
) -> None:
    app = make_app(rate_limit=UNLIMITED)
    email = unique_email()
    body = {"name": "Same", "email": email, "password": STRONG_PASSWORD}
    async with browser(app) as client:
        answers = await asyncio.gather(*(client.post("/api/auth/sign-up/email", json=body) for _ in range(50)))
    assert Counter(answer.status_code for answer in answers) == {200: 50}
    shapes = {(tuple(sorted(a.json())), tuple(sorted(a.json()["user"])), a.json()["token"]) for a in answers}
    assert len(shapes) == 1  # the one who created the account cannot be told from the 49 others
    assert await count(app, User) == 1
    assert app_log.messages(level=logging.WARNING) == []
    await app.state.mailer.drain()
    subjects = Counter(mail.subject for mail in mailbox.to(email))
    assert sum(subjects.values()) == 50 and len(subjects) == 2  # one "verify", 49 "already registered"


async def test_a_sign_up_that_loses_the_race_for_its_address_gets_the_same_answer(
    make_app: AppFactory, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, app_log: AppLog
) -> None:
    """Another request created the address between this sign-up's lookup and its insert: the
    unique constraint refuses the row, and the answer is the one an address already taken gets."""
    app = make_app(rate_limit=UNLIMITED)
    email = unique_email()
    body = {"name": "Late", "email": email, "password": STRONG_PASSWORD}
    async with browser(app) as client:
        first = await client.post("/api/auth/sign-up/email", json=body)
        lookup = app.state.auth.user_by_email
        missed: list[str] = []

        async def too_early(db: Any, address: str) -> User | None:
            if not missed:  # the lookup ran before the other request's commit
                missed.append(address)
                return None
            user: User | None = await lookup(db, address)
            return user

        monkeypatch.setattr(app.state.auth, "user_by_email", too_early)
        late = await client.post("/api/auth/sign-up/email", json=body)
    assert missed == [email]
    assert first.status_code == late.status_code == 200
    assert sorted(first.json()) == sorted(late.json()) and sorted(first.json()["user"]) == sorted(late.json()["user"])
    assert await count(app, User) == 1
    assert app_log.messages(level=logging.WARNING) == []
    await app.state.mailer.drain()
    assert "already" in mailbox.to(email)[-1].subject.lower()


async def test_a_hundred_at_once_sign_up_and_sign_in_without_an_error(make_app: AppFactory, app_log: AppLog) -> None:
    """200 sign-ups and then 100 sign-ins, 100 at a time: on SQLite the writers take turns at the
    one connection instead of failing with "database is locked". (The template's own tests put a
    served project through 1,000 sign-ups with its real password hashing.)"""
    app = make_app(rate_limit=UNLIMITED, mail={"backend": "console"})
    emails = [unique_email("crowd") for _ in range(200)]
    gate = asyncio.Semaphore(100)

    async def send(path: str, body: dict[str, str]) -> int:
        async with gate, browser(app) as client:  # a browser each: no session replaces another
            return (await client.post(path, json=body)).status_code

    password = STRONG_PASSWORD
    sign_ups = await asyncio.gather(
        *(send("/api/auth/sign-up/email", {"name": "C", "email": e, "password": password}) for e in emails)
    )
    sign_ins = await asyncio.gather(
        *(send("/api/auth/sign-in/email", {"email": e, "password": password}) for e in emails[:100])
    )
    assert Counter(sign_ups) == {200: 200} and Counter(sign_ins) == {200: 100}
    assert await count(app, User) == 200 and await count(app, Session) == 100
    assert app_log.messages(level=logging.WARNING) == []
    await app.state.mailer.drain()
