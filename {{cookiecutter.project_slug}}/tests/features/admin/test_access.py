"""Roles as permission statements: what each role may do in the console, and who may grant what."""

from __future__ import annotations

import pytest

from app.features.admin import access
from app.features.admin.web import requires_permission

EVERY = [f"{resource}:{action}" for resource, actions in access.STATEMENTS.items() for action in sorted(actions)]


def test_admins_may_do_everything_users_nothing() -> None:
    assert all(access.can("admin", p) for p in EVERY)
    assert not any(access.can("user", p) for p in EVERY)
    assert not access.is_console_user("user") and not access.is_console_user("") and not access.is_console_user(None)
    assert not access.is_console_user("owner")  # an organization's role means nothing here
    assert access.is_console_user("support") and access.is_console_user("user,admin")


def test_several_roles_hold_the_union_of_their_permissions() -> None:
    assert not access.can("support", "user:ban")
    assert access.can("support,admin", "user:ban")
    assert access.has_all("support", {"user": ["list"], "session": ["revoke"]})
    assert not access.has_all("support", {"user": ["list", "delete"]})


def test_no_one_grants_more_than_they_hold() -> None:
    assert access.grantable("admin") == ["admin", "support", "user"]
    assert access.grantable("support") == ["support", "user"]
    assert access.grantable("user") == ["user"]
    assert not access.can_grant("support", "admin") and not access.can_grant("support", "support,admin")


def test_a_misspelt_permission_fails_when_the_route_is_declared() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        requires_permission("user:bann")
    with pytest.raises(ValueError, match="unknown permission"):
        access.can("admin", "billing:read")
