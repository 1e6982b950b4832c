"""The users list: a search, a filter, a sort, and a page by offset (Better Auth's) or after a keyset cursor.

A keyset page reads the rows after the last one shown, by the sort column and the id, so its cost
does not grow with how far one pages (an offset page reads and skips every row before it).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, literal, or_, true, tuple_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import User
from app.core.errors import InvalidInput

SORTS = {"createdAt": "created_at", "updatedAt": "updated_at", "email": "email", "name": "name", "role": "role"}
SEARCH_FIELDS = ("email", "name")
Operator = Literal["contains", "starts_with", "ends_with"]
MAX_LIMIT = 100
USER = User.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Query:
    """What the users list shows: a search, a sort, and a page (by offset, or after a keyset cursor)."""

    search: str = ""
    search_field: str = "email"  # "email" or "name"; the pages search both ("any")
    operator: Operator = "contains"
    sort: str = "createdAt"
    descending: bool = True
    limit: int = 50
    offset: int = 0
    cursor: str | None = None  # keyset: the page after this cursor (see `Page.next_cursor`)
    filter_field: str | None = None
    filter_value: object = None
    filter_negate: bool = False


@dataclass(frozen=True)
class Page:
    """One page of users, the total matching, and the cursors of the pages around it (keyset)."""

    users: list[User]
    total: int
    next_cursor: str | None


def _like(value: str, operator: Operator) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"contains": f"%{escaped}%", "starts_with": f"{escaped}%", "ends_with": f"%{escaped}"}[operator]


def encode_cursor(sort_value: object, user_id: uuid.UUID) -> str:
    """An opaque cursor: the last row's sort value and id."""
    value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
    raw = json.dumps([value, str(user_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    """The sort value and id a cursor holds; InvalidInput for one this app did not make."""
    try:
        value, raw_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if SORTS[sort].endswith("_at"):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, str):
            raise ValueError(value)
        return value, uuid.UUID(raw_id)
    except (ValueError, TypeError, KeyError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("That page link is not valid: start from the first page.", field="cursor") from None


def _where(query: Query) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.search:
        pattern = _like(query.search.strip(), query.operator)
        fields = SEARCH_FIELDS if query.search_field == "any" else (query.search_field,)
        if any(field not in SEARCH_FIELDS for field in fields):
            raise InvalidInput("Search by email or name.", field="searchField")
        conditions.append(or_(*(col(getattr(User, f)).ilike(pattern, escape="\\") for f in fields)))
    if query.filter_field is not None:
        conditions.append(_filter(query.filter_field, query.filter_value, query.filter_negate))
    return conditions


def _filter(field: str, value: object, negate: bool) -> ColumnElement[bool]:
    columns = {"email": User.email, "name": User.name, "role": User.role}
    if field in ("banned", "emailVerified"):
        column = col(User.banned if field == "banned" else User.email_verified)
        wanted = value is True or str(value).lower() == "true"
        condition: ColumnElement[bool] = column.is_(true() if wanted else false())
    elif field in columns:
        condition = col(columns[field]) == str(value)
    else:
        raise InvalidInput("Filter by email, name, role, banned or emailVerified.", field="filterField")
    return ~condition if negate else condition


async def list_users(db: AsyncSession, query: Query) -> Page:
    """A page of users: by offset (Better Auth's list-users) or after a keyset cursor (the pages)."""
    if query.sort not in SORTS:
        raise InvalidInput(f"Sort by one of {', '.join(SORTS)}.", field="sortBy")
    limit = max(1, min(query.limit, MAX_LIMIT))
    conditions = _where(query)
    total = (await db.exec(select(func.count()).select_from(User).where(*conditions))).one()
    key = col(getattr(User, SORTS[query.sort]))
    order = [key.desc(), col(User.id).desc()] if query.descending else [key.asc(), col(User.id).asc()]
    statement = select(User).where(*conditions)
    if query.cursor:
        value, after_id = decode_cursor(query.cursor, query.sort)
        # A row-value comparison, not `key < value OR (key = value AND id < after_id)`: SQLite and
        # PostgreSQL seek an index on (key, id) for it, where the OR makes SQLite scan from the top.
        column, key_id = USER[SORTS[query.sort]], USER.id  # the table's columns: the values get their types
        row, after = tuple_(column, key_id), tuple_(literal(value, column.type), literal(after_id, key_id.type))
        statement = statement.where(row < after if query.descending else row > after)
    else:
        statement = statement.offset(max(0, query.offset))
    rows = list((await db.exec(statement.order_by(*order).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_cursor = encode_cursor(getattr(last, SORTS[query.sort]), last.id) if more and last else None
    return Page(rows, int(total), next_cursor)
