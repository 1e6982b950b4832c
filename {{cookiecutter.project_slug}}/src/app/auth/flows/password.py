"""Passwords: a reset by mailed link, a change from the account page, a re-authentication."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.kit import AuthKit, SignInResult
from app.auth.models import CREDENTIAL_PROVIDER, Account, User
from app.auth.sessions import Principal
from app.core.db import utcnow
from app.core.errors import InvalidInput, InvalidToken
from app.core.events import EventName, RequestMeta

RESET_PASSWORD = "password-reset"  # noqa: S105 - the purpose of reset links, not a secret


async def request_password_reset(kit: AuthKit, db: AsyncSession, meta: RequestMeta, email: str) -> None:
    """Mail a reset link when the address has an account; the answer is the same when not.

    The same in time as well: the link (a row, a commit, a rendered mail) is made after the
    answer (`Mailer.run_later`), so that no stopwatch tells which addresses have an account.
    """
    email = kit.normalize_email(email)
    await kit.spend_mail_budget(email)
    user = await kit.user_by_email(db, email)
    if user is not None:
        kit.run_later(_mail_reset_link(kit, meta, user.id, user.name, email))


async def _mail_reset_link(kit: AuthKit, meta: RequestMeta, user_id: uuid.UUID, name: str, email: str) -> None:
    """Make the link in a transaction of its own (after the answer) and mail it."""
    async with kit.db.sessions() as db:
        token = await kit.issue_token(db, RESET_PASSWORD, str(user_id), kit.settings.auth.reset_ttl)
        await kit.record(
            db, EventName.PASSWORD_RESET_REQUESTED, meta, actor=None, target_type="user", target_id=user_id
        )
        await db.commit()
    kit.send_mail(email, "reset_password", name=name, url=kit.link("/reset-password", token=token))


async def check_reset_token(kit: AuthKit, db: AsyncSession, token: str) -> bool:
    """Whether a reset link is still usable (to show the form or the 'expired' page)."""
    return await kit.peek_token(db, RESET_PASSWORD, token) is not None


async def reset_password(kit: AuthKit, db: AsyncSession, meta: RequestMeta, token: str, new_password: str) -> None:
    """Set a new password from a reset link; signs out every session, does not sign in."""
    kit.check_password_length(new_password, "newPassword")
    user_id, _ = await kit.consume_token(db, RESET_PASSWORD, token)
    user = await db.get(User, uuid.UUID(user_id))
    if user is None:
        await db.commit()
        raise InvalidToken()
    try:
        kit.check_new_password(new_password, user.email, "newPassword")
    except InvalidInput:
        await db.rollback()  # keep the link usable for a second try
        raise
    await _set_password(kit, db, user, await kit.passwords.hash(new_password))
    user.email_verified = True  # the link proved the mailbox
    db.add(user)
    await kit.drop_links(db, user.id)
    revoked = await kit.sessions.revoke_all(db, user.id)
    await kit.gate.revoke_trust(db, user.id)  # a browser trusted before the reset must ask again
    await kit.failed_sign_ins.reset(user.email)  # the owner proved themselves: lift a lockout
    await kit.record_revoked(db, meta, user.id, revoked, "password-reset")
    await kit.record(
        db,
        EventName.PASSWORD_RESET,
        meta,
        actor=user.id,
        target_type="user",
        target_id=user.id,
        sessions_revoked=len(revoked),
    )
    await db.commit()


async def _set_password(kit: AuthKit, db: AsyncSession, user: User, password_hash: str) -> None:
    """Store a new password hash, creating the credential account of a user who had none."""
    account = await kit.credential(db, user.id)
    if account is None:
        account = Account(user_id=user.id, provider_id=CREDENTIAL_PROVIDER, account_id=str(user.id))
    account.password_hash = password_hash
    account.updated_at = utcnow()
    user.updated_at = utcnow()
    db.add(account)


async def set_password(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, user: User, new: str, *, actor_id: uuid.UUID
) -> None:
    """Give a user a new password chosen by someone else (an admin); commits.

    The policy applies as to any new password; emailed links issued before go. The caller
    decided that `actor_id` may.
    """
    kit.check_password_length(new, "newPassword")
    kit.check_new_password(new, user.email, "newPassword")
    await _set_password(kit, db, user, await kit.passwords.hash(new))
    await kit.drop_links(db, user.id)
    await kit.record(
        db, EventName.PASSWORD_CHANGED, meta, actor=actor_id, target_type="user", target_id=user.id, by="admin"
    )
    await db.commit()


async def change_password(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, principal: Principal, current: str, new: str, revoke_others: bool
) -> SignInResult:
    """Needs a fresh session and the current password; rotates this token, may sign out the others."""
    kit.require_fresh(principal)
    kit.check_password_length(current, "currentPassword")
    kit.check_password_length(new, "newPassword")
    user = await db.get(User, principal.user_id)
    account = await kit.credential(db, principal.user_id)
    if user is None or not await kit.check_password(account, principal.email, current):
        raise InvalidInput("Your current password is not correct.", field="currentPassword")
    kit.check_new_password(new, user.email, "newPassword")
    await _set_password(kit, db, user, await kit.passwords.hash(new))
    await kit.drop_links(db, user.id)
    if revoke_others:
        others = await kit.sessions.revoke_all(db, user.id, keep=principal.session_id)
        await kit.record_revoked(db, meta, user.id, others, "password-changed")
    await kit.record(
        db,
        EventName.PASSWORD_CHANGED,
        meta,
        actor=user.id,
        target_type="user",
        target_id=user.id,
        other_sessions_revoked=revoke_others,
    )
    result = await kit.open_session(
        db, meta, user, principal.sign_in_method, principal.persistent, replaces=principal.session_id, multi_factor=True
    )
    if not isinstance(result, SignInResult):  # multi-factor: the session was proved already
        raise RuntimeError("a password change was challenged")
    return result


async def reauthenticate(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, principal: Principal, password: str
) -> None:
    """Confirm the password to make the session fresh again."""
    kit.check_password_length(password)
    account = await kit.credential(db, principal.user_id)
    if not await kit.check_password(account, principal.email, password):
        raise InvalidInput("That password is not correct.", field="password")
    await kit.sessions.mark_fresh(db, principal.session_id)
    await kit.record(
        db,
        EventName.SESSION_REAUTHENTICATED,
        meta,
        actor=principal.user_id,
        target_type="session",
        target_id=principal.session_id,
    )
    await db.commit()
