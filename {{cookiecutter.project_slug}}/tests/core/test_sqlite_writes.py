"""SQLite's one writer: the app's transactions hold the write lock from their first statement.

A transaction that read, then wrote after another connection had committed, failed at once
with "database is locked" (its snapshot was stale, and no busy timeout helps). Collected on
SQLite only (tests/conftest.py): PostgreSQL has row locks and no such failure.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from contextlib import closing
from typing import Any

import anyio.to_thread
import pytest

from app import hooks
from app.auth.models import User
from app.core.db import utcnow
from tests.conftest import STRONG_PASSWORD, AppFactory, Client, unique_email


def another_process_writes(path: str) -> str:
    """What the CLI or a second server does meanwhile: write a row and commit, without waiting."""
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    row = (uuid.uuid4().hex, "other-process", "x", uuid.uuid4().hex, "", now, now)
    with closing(sqlite3.connect(path, timeout=0)) as other:
        try:
            other.execute("INSERT INTO verification VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            other.commit()
        except sqlite3.OperationalError as error:
            return str(error)
    return "written"


async def test_another_writer_waits_instead_of_breaking_a_sign_up(
    make_app: AppFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    looked_up, carry_on = asyncio.Event(), asyncio.Event()

    async def pause(_ctx: Any, _name: str, _email: str) -> None:  # between the sign-up's lookup and its insert
        looked_up.set()
        await carry_on.wait()

    monkeypatch.setattr(hooks, "before_user_create", pause)
    email = unique_email()
    async with Client(app=app) as client:
        client.headers["origin"] = str(client.base_url).rstrip("/")
        body = {"name": "Ada", "email": email, "password": STRONG_PASSWORD}
        sign_up = asyncio.create_task(client.post("/api/auth/sign-up/email", json=body))
        await looked_up.wait()
        meanwhile = await anyio.to_thread.run_sync(another_process_writes, database_url.split("///", 1)[1])
        carry_on.set()
        response = await sign_up
    assert response.status_code == 200, response.text
    assert meanwhile == "database is locked"  # it would wait for the lock (its busy timeout), not break ours
    async with app.state.db.sessions() as db:
        assert (await db.get(User, uuid.UUID(response.json()["user"]["id"]))) is not None
