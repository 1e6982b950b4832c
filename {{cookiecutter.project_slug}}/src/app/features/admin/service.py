"""The console's rules: act on a user (ban, role, sessions, deletion ...); the list is in `listing`.

No HTTP objects: the JSON routes and the HTML pages call these with the acting admin (`Actor`,
whose role the request's guard read from the database) and record every change through the kit.
Access to each action is the guard's; the rules between people are here: nobody grants or takes
away more than they hold, nobody bans or deletes themself, and the last admin stays one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, false, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import (
    AuthKit,
    Session,
    User,
    ban_user,
    edit_profile,
    remove_user,
    request_password_reset,
    set_password,
    unban_user,
)
from app.core.db import utcnow
from app.core.errors import InvalidInput
from app.core.events import EventName, RequestMeta
from app.features.admin import access
from app.features.admin.activity import Activity, page_activity
from app.features.admin.errors import (
    CannotBanYourself,
    CannotRemoveYourself,
    LastAdmin,
    RoleAboveYourOwn,
    UnknownRole,
    UserExists,
    UserNotFound,
)
from app.features.admin.listing import Page, Query, list_users

ROLE_SET = "admin.role_set"
RESET_SENT = "admin.password_reset_sent"
USER_CREATED_BY_ADMIN = "admin.user_created"


@dataclass(frozen=True)
class Actor:
    """The admin acting, with the role the guard read from the database for this request."""

    user_id: uuid.UUID
    role: str

    def can(self, permission: str) -> bool:
        """Whether their role allows `permission`."""
        return access.can(self.role, permission)


class Admin:
    """The console's service; one per app (app.state, see app.features.admin.web)."""

    def __init__(self, kit: AuthKit) -> None:
        self.kit = kit

    # --- reading -------------------------------------------------------------------------

    async def list_users(self, db: AsyncSession, query: Query) -> Page:
        """A page of users (see app.features.admin.listing)."""
        return await list_users(db, query)

    async def activity(self, db: AsyncSession, users: Sequence[User]) -> dict[uuid.UUID, Activity]:
        """The users list's extras for a page: last sign-in, second factors (app.features.admin.activity)."""
        return await page_activity(db, self.kit, users)

    async def user(self, db: AsyncSession, user_id: uuid.UUID | str) -> User:
        """A user by id, or UserNotFound (also for an id that is not one)."""
        try:
            key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
        except ValueError:
            raise UserNotFound() from None
        user = await db.get(User, key)
        if user is None:
            raise UserNotFound()
        return user

    async def sessions(self, db: AsyncSession, user_id: uuid.UUID) -> list[Session]:
        """The user's unexpired sessions, most recently active first."""
        return await self.kit.sessions.active(db, user_id)

    async def active_admins(self, db: AsyncSession) -> int:
        """How many unbanned users hold the admin role (alone or among others).

        Their rows stay locked until the caller's transaction ends (PostgreSQL; SQLite has one
        writer at a time): two admins demoting each other at once cannot both succeed.
        """
        role = col(User.role)
        holds = or_(role == access.ADMIN, role.like("admin,%"), role.like("%,admin"), role.like("%,admin,%"))
        now = utcnow()
        unbanned = or_(
            col(User.banned).is_(false()), and_(col(User.ban_expires).is_not(None), col(User.ban_expires) <= now)
        )
        rows = await db.exec(select(User.id).where(holds, unbanned).with_for_update())
        return len(rows.all())

    async def _keep_an_admin(self, db: AsyncSession, user: User) -> None:
        """LastAdmin when `user` is the last active admin (about to lose the role, be banned or deleted)."""
        active_admin = access.ADMIN in access.roles_of(user.role) and not user.is_banned(utcnow())
        if active_admin and await self.active_admins(db) <= 1:
            raise LastAdmin()

    # --- acting --------------------------------------------------------------------------

    async def set_role(self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User, role: str) -> User:
        """Give the user `role` (one name, or several joined by commas); never more than the actor holds."""
        role = ",".join(access.roles_of(role))
        if not role or access.unknown_roles(role):
            raise UnknownRole()
        if not access.can_grant(actor.role, role) or not access.can_grant(actor.role, user.role):
            raise RoleAboveYourOwn()
        if access.ADMIN not in access.roles_of(role):
            await self._keep_an_admin(db, user)
        previous, user.role, user.updated_at = user.role, role, utcnow()
        db.add(user)
        await self.kit.record(
            db, ROLE_SET, meta, actor=actor.user_id, target_type="user", target_id=user.id, role=role, previous=previous
        )
        await db.commit()
        return user

    async def ban(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        actor: Actor,
        user: User,
        reason: str | None,
        expires_in: int | None,
    ) -> User:
        """Ban the user (their sessions end now), for `expires_in` seconds or until lifted."""
        if user.id == actor.user_id:
            raise CannotBanYourself()
        if not access.can_grant(actor.role, user.role):
            raise RoleAboveYourOwn("You cannot ban someone whose role holds permissions you do not.")
        await self._keep_an_admin(db, user)
        if expires_in is not None and not 0 < expires_in <= 100 * 365 * 86400:
            raise InvalidInput("A ban lasts from a second to 100 years.", field="banExpiresIn")
        until = utcnow() + timedelta(seconds=expires_in) if expires_in else None
        await ban_user(self.kit, db, meta, user, reason or "No reason", until, actor_id=actor.user_id)
        return user

    async def unban(self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User) -> User:
        """Lift the user's ban."""
        await unban_user(self.kit, db, meta, user, actor_id=actor.user_id)
        return user

    async def revoke_session(self, db: AsyncSession, meta: RequestMeta, actor: Actor, session_id: str) -> bool:
        """End one session (by its id, the `token` list-user-sessions gives); True if it existed."""
        try:
            key = uuid.UUID(session_id)
        except ValueError:
            return False
        session = await db.get(Session, key)
        if session is None:
            return False
        await self.kit.sessions.revoke(db, key)
        await self.kit.record_revoked(db, meta, actor.user_id, [key], "admin")
        await db.commit()
        return True

    async def revoke_sessions(self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User) -> int:
        """End every session of the user."""
        ended = await self.kit.sessions.revoke_all(db, user.id)
        await self.kit.record_revoked(db, meta, actor.user_id, ended, "admin")
        await db.commit()
        return len(ended)

    async def remove(self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User) -> None:
        """Delete the user and everything of theirs (never oneself, nor the last admin)."""
        if user.id == actor.user_id:
            raise CannotRemoveYourself()
        if not access.can_grant(actor.role, user.role):
            raise RoleAboveYourOwn("You cannot delete someone whose role holds permissions you do not.")
        await self._keep_an_admin(db, user)
        await remove_user(self.kit, db, meta, user, actor_id=actor.user_id)

    async def send_password_reset(self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User) -> None:
        """Mail the user a password-reset link, as "Forgot password" does (within the address's
        mail budget); the admin never sees the link."""
        await request_password_reset(self.kit, db, meta, user.email)
        await self.kit.record(db, RESET_SENT, meta, actor=actor.user_id, target_type="user", target_id=user.id)
        await db.commit()

    async def verify_email(self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User) -> User:
        """Mark the user's address verified (they proved it another way)."""
        if not user.email_verified:
            user.email_verified, user.updated_at = True, utcnow()
            db.add(user)
            await self.kit.record(
                db,
                EventName.EMAIL_VERIFIED,
                meta,
                actor=actor.user_id,
                target_type="user",
                target_id=user.id,
                by="admin",
            )
            await db.commit()
        return user

    async def update_profile(
        self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User, name: str | None, image: str | None
    ) -> User:
        """Change the user's name and/or picture (None leaves it as it is)."""
        if name is None and image is None:
            raise InvalidInput("No data to update.", field="data")
        if not access.can_grant(actor.role, user.role):
            raise RoleAboveYourOwn("You cannot change someone whose role holds permissions you do not.")
        return await edit_profile(self.kit, db, meta, user, name, image, actor_id=actor.user_id)

    async def set_password(self, db: AsyncSession, meta: RequestMeta, actor: Actor, user: User, password: str) -> None:
        """Give the user a new password (the policy applies)."""
        if not access.can_grant(actor.role, user.role):
            raise RoleAboveYourOwn("You cannot change the password of someone whose role holds permissions you do not.")
        await set_password(self.kit, db, meta, user, password, actor_id=actor.user_id)

    async def create_user(
        self,
        db: AsyncSession,
        meta: RequestMeta,
        actor: Actor,
        *,
        email: str,
        name: str,
        password: str | None,
        role: str | None,
    ) -> User:
        """Add a user (verified only when they sign in by a link later), with a password when given."""
        address = self.kit.normalize_email(email)
        clean = self.kit.clean_name(name)
        role = ",".join(access.roles_of(role)) if role is not None else access.USER
        if not role or access.unknown_roles(role):
            raise UnknownRole()
        if not access.can_grant(actor.role, role):
            raise RoleAboveYourOwn()
        if password:
            self.kit.check_password_length(password)
            self.kit.check_new_password(password, address)
        if await self.kit.user_by_email(db, address):
            raise UserExists()
        try:
            user = await self.kit.create_user(db, meta, name=clean, email=address, method="admin")
        except IntegrityError:
            await db.rollback()
            raise UserExists() from None
        user.role = role
        db.add(user)
        await self.kit.record(
            db, USER_CREATED_BY_ADMIN, meta, actor=actor.user_id, target_type="user", target_id=user.id, role=role
        )
        if password:
            await set_password(self.kit, db, meta, user, password, actor_id=actor.user_id)
        await db.commit()
        return user
