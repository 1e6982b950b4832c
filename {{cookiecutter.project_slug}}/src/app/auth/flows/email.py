"""Proving an address: verification links, a change of address, and the first proof of an
address that someone else may have signed up with."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.kit import AuthKit
from app.auth.models import User
from app.auth.sessions import Principal
from app.core.db import utcnow
from app.core.errors import InvalidInput, InvalidToken
from app.core.events import EventName, RequestMeta

VERIFY_EMAIL = "email-verification"  # the purposes of the links of this module (Verification.purpose)
CHANGE_EMAIL = "change-email"


async def send_verification(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, email: str, callback: str | None = None
) -> None:
    """Mail a new verification link if the address belongs to an unverified user; silent otherwise."""
    email = kit.normalize_email(email)
    await kit.spend_mail_budget(email)
    user = await kit.user_by_email(db, email)
    if user is None or user.email_verified:
        return
    token = await kit.issue_token(db, VERIFY_EMAIL, email, kit.settings.auth.verification_ttl)
    await db.commit()
    kit.send_mail(email, "verify_email", name=user.name, url=kit.link("/verify-email", token=token, next=callback))


async def verify_email(kit: AuthKit, db: AsyncSession, meta: RequestMeta, token: str) -> User:
    """Use up a verification link (1 hour, single use) or an email-change link."""
    email, _ = await kit.consume_token(db, VERIFY_EMAIL, token)
    user = await kit.user_by_email(db, email)
    if user is None:
        await db.commit()
        raise InvalidToken()
    if not user.email_verified:
        user.email_verified = True
        user.updated_at = utcnow()
        db.add(user)
        await kit.record(db, EventName.EMAIL_VERIFIED, meta, actor=user.id, target_type="user", target_id=user.id)
    await db.commit()
    return user


async def claim_unverified(kit: AuthKit, db: AsyncSession, meta: RequestMeta, user: User, via: str) -> None:
    """A link mailed to the address proves it for the first time, for an account that never proved it.

    Whoever signed up with the address before its owner (account pre-hijacking) set the
    password and may hold sessions (when unverified sign-in is allowed): neither survives the
    owner's proof of the mailbox. The owner sets a password again with "Forgot password".
    """
    user.email_verified = True
    user.updated_at = utcnow()
    db.add(user)
    credential = await kit.credential(db, user.id)
    if credential is not None:
        await db.delete(credential)
    revoked = await kit.sessions.revoke_all(db, user.id)
    await kit.gate.revoke_trust(db, user.id)
    await kit.record_revoked(db, meta, user.id, revoked, "email-verified")
    removed = credential is not None
    await kit.record(
        db,
        EventName.EMAIL_VERIFIED,
        meta,
        actor=user.id,
        target_type="user",
        target_id=user.id,
        via=via,
        password_removed=removed,
    )


async def change_email(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, principal: Principal, new_email: str, callback: str | None = None
) -> None:
    """Mail a confirmation link to the new address and a notice to the old one."""
    kit.require_fresh(principal)
    new_email = kit.normalize_email(new_email)
    if new_email == principal.email:
        raise InvalidInput("That is already your email address.", field="newEmail")
    await kit.spend_mail_budget(new_email)
    if await kit.user_by_email(db, new_email) is not None:
        kit.send_mail(new_email, "email_taken", sign_in_url=kit.link("/sign-in"))
    else:
        token = await kit.issue_token(
            db, CHANGE_EMAIL, str(principal.user_id), kit.settings.auth.verification_ttl, payload=new_email
        )
        kit.send_mail(
            new_email,
            "confirm_email_change",
            name=principal.name,
            url=kit.link("/verify-email/change", token=token, next=callback),
        )
    await kit.record(
        db,
        EventName.EMAIL_CHANGE_REQUESTED,
        meta,
        actor=principal.user_id,
        target_type="user",
        target_id=principal.user_id,
    )
    await db.commit()
    kit.send_mail(principal.email, "email_change_notice", name=principal.name, new_email=new_email)


async def confirm_email_change(kit: AuthKit, db: AsyncSession, meta: RequestMeta, token: str) -> User:
    """Switch to the new address from the link sent to it."""
    user_id, new_email = await kit.consume_token(db, CHANGE_EMAIL, token)
    user = await db.get(User, uuid.UUID(user_id))
    if user is None or await kit.user_by_email(db, new_email) is not None:
        await db.commit()
        raise InvalidToken("This link is no longer valid: the address is already in use.")
    old = user.email
    user.email = new_email
    user.email_verified = True
    user.updated_at = utcnow()
    db.add(user)
    await kit.drop_links(db, user.id)  # links mailed to the old address stop working
    await kit.record(
        db,
        EventName.EMAIL_CHANGED,
        meta,
        actor=user.id,
        target_type="user",
        target_id=user.id,
        old_domain=old.split("@")[-1],
    )
    await db.commit()
    return user
