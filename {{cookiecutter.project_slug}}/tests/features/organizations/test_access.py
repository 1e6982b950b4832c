"""Roles as permission statements: what each role may do, and who may grant what."""

from __future__ import annotations

import pytest

from app.features.organizations import access
from app.features.organizations.web import requires_permission

EVERY = [f"{resource}:{action}" for resource, actions in access.STATEMENTS.items() for action in sorted(actions)]


def test_owners_may_do_everything_members_nothing_admins_all_but_delete() -> None:
    assert all(access.can("owner", p) for p in EVERY)
    assert not any(access.can("member", p) for p in EVERY)
    assert [p for p in EVERY if not access.can("admin", p)] == ["organization:delete"]
    assert not access.can("stranger", "member:update")


def test_no_one_grants_a_role_above_their_own() -> None:
    assert access.grantable("owner") == ["member", "admin", "owner"]
    assert access.grantable("admin") == ["member", "admin"]
    assert access.grantable("member") == ["member"]
    assert not access.can_grant("admin", "owner") and not access.can_grant("admin", "superuser")
    assert access.outranks("owner", "admin") and not access.outranks("admin", "admin")


def test_a_misspelt_permission_fails_when_the_route_is_declared() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        requires_permission("member:updte")
    with pytest.raises(ValueError, match="unknown permission"):
        access.can("owner", "billing:read")
