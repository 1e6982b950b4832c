"""Signing in with an address and a password, and signing out."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, bindparam, update
from sqlalchemy import select as core_select
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.flows.email import send_verification
from app.auth.kit import AuthKit, SignInOutcome, SignInResult
from app.auth.models import CREDENTIAL_PROVIDER, Account, User
from app.auth.second_factor import SecondFactor
from app.auth.sessions import Principal
from app.core.db import utcnow
from app.core.errors import EmailNotVerified, InvalidCredentials
from app.core.events import EventName, RequestMeta

_USER_COLUMNS = tuple(column.key for column in User.__table__.columns)  # type: ignore[attr-defined]
_USER_ID = User.__table__.c.id  # type: ignore[attr-defined]
# sign_in's single read: the user by address, with their credential account if they have one.
_SIGN_IN_LOOKUP = (
    core_select(
        *User.__table__.columns,  # type: ignore[attr-defined]
        col(Account.id).label("credential_id"),
        col(Account.password_hash).label("credential_password_hash"),
    )
    .outerjoin(
        Account,
        (col(Account.user_id) == col(User.id)) & (col(Account.provider_id) == CREDENTIAL_PROVIDER),
    )
    .where(col(User.email) == bindparam("email"))
)
# The lookup with the enrolment columns of each set of second factors (module-level statements:
# the direct reader compiles each once).
_LOOKUPS: dict[tuple[SecondFactor, ...], Select[Any]] = {}


async def sign_in(
    kit: AuthKit,
    db: AsyncSession,
    meta: RequestMeta,
    email: str,
    password: str,
    remember: bool = True,
    replaces: uuid.UUID | None = None,
) -> SignInOutcome:
    """Check email and password (one hash either way) and open a new session, or hand over to the
    second factor (a `Challenge`)."""
    email = kit.normalize_email(email)
    kit.check_password_length(password)
    await kit.spend_attempt(email)
    # One read for the user, their password and their second factors (the direct reader, no ORM round trips).
    factors, lookup = _sign_in_lookup(kit)
    found = await kit.sessions.reader.first(lookup, {"email": email})
    stored = found["credential_password_hash"] if found else None
    if not await kit.passwords.verify(stored, password) or found is None or found["credential_id"] is None:
        if found is not None:
            await kit.record(
                db,
                EventName.SIGN_IN_FAILED,
                meta,
                actor=None,
                target_type="user",
                target_id=found["id"],
                reason="password",
            )
            await db.commit()
        raise InvalidCredentials()
    await kit.failed_sign_ins.take_back(email)  # a right password is no failed sign-in
    # The row becomes a persistent User of this db session without a second SELECT (hooks may change it).
    user = User(**{name: found[name] for name in _USER_COLUMNS})
    make_transient_to_detached(user)
    db.add(user)
    if not user.email_verified and not kit.settings.allow_unverified_sign_in:
        await send_verification(kit, db, meta, email)
        raise EmailNotVerified()
    if stored and kit.passwords.needs_rehash(stored):
        rehashed = await kit.passwords.hash(password)
        await db.exec(
            update(Account)
            .where(col(Account.id) == found["credential_id"])
            .values(password_hash=rehashed, updated_at=utcnow())
        )
    enrolled = kit.gate.enrolled_in(factors, found)
    result = await kit.open_session(db, meta, user, "password", remember, replaces, enrolled=enrolled)
    if isinstance(result, SignInResult):  # signed in: the failures before count no more
        await kit.failed_sign_ins.reset(email)
    return result


def _sign_in_lookup(kit: AuthKit) -> tuple[tuple[SecondFactor, ...], Select[Any]]:
    """sign_in's one SELECT for the second factors on now: the user, the credential, the enrolment."""
    factors, columns = kit.gate.enrolment(_USER_ID)
    lookup = _LOOKUPS.get(factors)
    if lookup is None:  # one statement per set of factors, so that the reader compiles it once
        lookup = _LOOKUPS[factors] = _SIGN_IN_LOOKUP.add_columns(*columns)
    return factors, lookup


async def sign_out(kit: AuthKit, db: AsyncSession, meta: RequestMeta, principal: Principal) -> None:
    """Delete the session row."""
    if await kit.sessions.revoke(db, principal.session_id):
        await kit.record_revoked(db, meta, principal.user_id, [principal.session_id], "sign-out")
    await db.commit()
