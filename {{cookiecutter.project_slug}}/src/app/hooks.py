"""Your extension points: code that runs before or after auth operations.

Each hook runs inside the database transaction of the operation, with the same session: write
related rows here and they commit (or roll back) together. Raise `Vetoed("reason")` in a
`before_*` hook to refuse the operation; the user sees the reason, nothing is changed.

    async def before_user_create(ctx: HookContext, name: str, email: str) -> None:
        if not email.endswith("@example.com"):
            raise Vetoed("Sign-up is limited to example.com addresses.")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import Vetoed
from app.core.events import RequestMeta

if TYPE_CHECKING:
    from app.auth.models import Session, User

__all__ = ["HookContext", "Vetoed"]


@dataclass(frozen=True)
class HookContext:
    """The open database session and who is asking."""

    db: AsyncSession
    meta: RequestMeta


async def before_user_create(ctx: HookContext, name: str, email: str) -> None:
    """Runs before a user is inserted; raise Vetoed to refuse the sign-up."""


async def after_user_create(ctx: HookContext, user: User) -> None:
    """Runs after the user row exists, in the same transaction."""


async def before_sign_in(ctx: HookContext, user: User, method: str) -> None:
    """Runs after the credentials are checked, before a session is created."""


async def after_sign_in(ctx: HookContext, user: User, session: Session) -> None:
    """Runs after the session row exists, in the same transaction."""


async def before_user_delete(ctx: HookContext, user: User) -> None:
    """Runs before a user and everything that cascades from it is deleted."""
