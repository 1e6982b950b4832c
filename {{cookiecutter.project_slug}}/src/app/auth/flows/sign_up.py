"""Sign-up with an address and a password: a new account, or (address taken) a mail to its owner."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.flows.email import VERIFY_EMAIL
from app.auth.kit import AuthKit
from app.auth.models import CREDENTIAL_PROVIDER, Account, User
from app.core.db import utcnow
from app.core.errors import InvalidInput
from app.core.events import RequestMeta


def sign_up_errors(kit: AuthKit, name: str, email: str, password: str) -> dict[str, str]:
    """Every field error of a sign-up at once, by field (a form shows them together); {} if none."""
    errors: dict[str, str] = {}
    checks: list[tuple[str, Callable[[], object]]] = [
        ("name", lambda: kit.clean_name(name)),
        ("email", lambda: kit.normalize_email(email)),
        ("password", lambda: kit.check_password_length(password)),
        ("password", lambda: kit.check_new_password(password, email)),
    ]
    for field, check in checks:
        if field in errors:
            continue
        try:
            check()
        except InvalidInput as error:
            errors[error.field or field] = error.message
    return errors


async def sign_up(
    kit: AuthKit, db: AsyncSession, meta: RequestMeta, name: str, email: str, password: str, callback: str | None = None
) -> User:
    """Create a user, or (taken email) tell its owner; both paths look and cost the same."""
    name = kit.clean_name(name)
    email = kit.normalize_email(email)
    kit.check_password_length(password)
    kit.check_new_password(password, email)
    await kit.spend_mail_budget(email)
    password_hash = await kit.passwords.hash(password)
    existing = await kit.user_by_email(db, email)
    if existing is not None:
        return _already_registered(kit, existing, name, email)
    try:
        user = await kit.create_user(db, meta, name=name, email=email, method="password")
    except IntegrityError:  # the address signed up in another request since the lookup above
        await db.rollback()
        return _already_registered(kit, await kit.user_by_email(db, email), name, email)
    account_id = str(user.id)
    db.add(
        Account(user_id=user.id, provider_id=CREDENTIAL_PROVIDER, account_id=account_id, password_hash=password_hash)
    )
    token = await kit.issue_token(db, VERIFY_EMAIL, email, kit.settings.auth.verification_ttl)
    await db.commit()
    kit.send_mail(email, "verify_email", name=name, url=kit.link("/verify-email", token=token, next=callback))
    return user


def _already_registered(kit: AuthKit, existing: User | None, name: str, email: str) -> User:
    """Sign-up's answer for an address that has an account: its owner is told by mail, and the
    caller gets what a new sign-up gets (a user that is never stored), so no one learns whether
    the address was taken."""
    if existing is not None:
        kit.send_mail(
            email,
            "already_registered",
            name=existing.name,
            sign_in_url=kit.link("/sign-in"),
            reset_url=kit.link("/forgot-password"),
        )
    now = utcnow()
    return User(id=uuid.uuid4(), name=name, email=email, created_at=now, updated_at=now)
