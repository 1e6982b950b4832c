"""The account itself: its name and picture, a ban and its lifting, its deletion."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app import hooks
from app.auth.kit import AuthKit
from app.auth.models import User, Verification
from app.auth.sessions import Principal
from app.core.db import utcnow
from app.core.errors import InvalidInput, InvalidToken
from app.core.events import EventName, RequestMeta


async def update_user(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, principal: Principal, name: str | None, image: str | None = None
) -> User:
    """Change the display name (and avatar URL)."""
    user = await db.get(User, principal.user_id)
    if user is None:
        raise InvalidToken()
    return await edit_profile(kit, db, meta, user, name, image, actor_id=user.id)


async def edit_profile(
    kit: AuthKit,
    db: AsyncSession,
    meta: RequestMeta,
    user: User,
    name: str | None,
    image: str | None = None,
    *,
    actor_id: uuid.UUID,
) -> User:
    """Change a user's name and/or avatar URL (None leaves it); commits. The caller decided that
    `actor_id` may (the user themself, or an admin)."""
    changed = []
    if name is not None:
        user.name = kit.clean_name(name)
        changed.append("name")
    if image is not None:
        if image and (len(image) > 2048 or not image.startswith("https://") or "\x00" in image):
            raise InvalidInput("The image must be an https:// URL.", field="image")
        user.image = image or None
        changed.append("image")
    user.updated_at = utcnow()
    db.add(user)
    extra = {"by": "admin"} if actor_id != user.id else {}
    await kit.record(
        db, EventName.USER_UPDATED, meta, actor=actor_id, target_type="user", target_id=user.id, fields=changed, **extra
    )
    await db.commit()
    return user


async def ban_user(
    kit: AuthKit,
    db: AsyncSession,
    meta: RequestMeta,
    user: User,
    reason: str | None = None,
    expires_at: datetime | None = None,
    actor_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Suspend a user: every session ends now, and no sign-in or credential works until it lifts."""
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("A ban must end in the future.", field="expires")
    reason = " ".join((reason or "").split())[:500] or None
    user.banned, user.ban_reason, user.ban_expires = True, reason, expires_at
    user.updated_at = utcnow()
    db.add(user)
    ended = await kit.sessions.revoke_all(db, user.id)
    until = expires_at.isoformat(timespec="seconds") if expires_at else None
    await kit.record(
        db,
        EventName.USER_BANNED,
        meta,
        actor=actor_id,
        target_type="user",
        target_id=user.id,
        reason=reason,
        until=until,
    )
    if ended:
        await kit.record_revoked(db, meta, actor_id, ended, "ban")
    await db.commit()
    return ended


async def unban_user(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, user: User, actor_id: uuid.UUID | None = None
) -> None:
    """Lift a ban."""
    user.banned, user.ban_reason, user.ban_expires = False, None, None
    user.updated_at = utcnow()
    db.add(user)
    await kit.record(db, EventName.USER_UNBANNED, meta, actor=actor_id, target_type="user", target_id=user.id)
    await db.commit()


async def delete_user(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, principal: Principal, password: str | None = None
) -> None:
    """Delete the account and everything that cascades from it; needs a fresh session or the password."""
    kit.check_sensitive(principal)  # the password does not lift a feature's refusal (an impersonation)
    if password:
        kit.check_password_length(password)
        account = await kit.credential(db, principal.user_id)
        if not await kit.check_password(account, principal.email, password):
            raise InvalidInput("That password is not correct.", field="password")
    else:
        kit.require_fresh(principal)
    user = await db.get(User, principal.user_id)
    if user is None:
        return
    await remove_user(kit, db, meta, user, actor_id=user.id)


async def remove_user(kit: AuthKit, db: AsyncSession, meta: RequestMeta, user: User, *, actor_id: uuid.UUID) -> None:
    """Delete a user and everything that cascades from it, with the team's hook first; commits.

    The caller decided that `actor_id` may (the user themself, or an admin).
    """
    await hooks.before_user_delete(hooks.HookContext(db, meta), user)
    await kit.record(db, EventName.USER_DELETED, meta, actor=actor_id, target_type="user", target_id=user.id)
    await db.exec(delete(Verification).where(col(Verification.identifier).in_([user.email, str(user.id)])))
    await db.delete(user)
    await db.commit()
