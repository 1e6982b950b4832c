"""Roles as permission statements (resource -> actions), as Better Auth's access control writes them.

A team extends this in one place: add a resource and its actions to `STATEMENTS`, give roles
the actions they may take, and protect routes with `requires_permission("resource:action")`
(see app.features.organizations.guards). `RANK` orders the roles: no one grants a role above
their own, nor acts on a member whose role is above theirs.
"""

from __future__ import annotations

from collections.abc import Mapping

# Every resource and the actions on it that need a permission. Reading is open to every member.
STATEMENTS: Mapping[str, frozenset[str]] = {
    "organization": frozenset({"update", "delete"}),
    "member": frozenset({"create", "update", "delete"}),
    "invitation": frozenset({"create", "cancel"}),
}

OWNER = "owner"
ADMIN = "admin"
MEMBER = "member"

ROLES: Mapping[str, Mapping[str, frozenset[str]]] = {
    OWNER: STATEMENTS,
    ADMIN: {
        "organization": frozenset({"update"}),
        "member": frozenset({"create", "update", "delete"}),
        "invitation": frozenset({"create", "cancel"}),
    },
    MEMBER: {},
}

# Higher can do more; a role may only be granted by someone whose rank is at least as high.
RANK: Mapping[str, int] = {MEMBER: 1, ADMIN: 2, OWNER: 3}

ROLE_LABELS: Mapping[str, str] = {OWNER: "Owner", ADMIN: "Admin", MEMBER: "Member"}


def parse_permission(permission: str) -> tuple[str, str]:
    """`"member:update"` -> ("member", "update"); a typo is a programming error, caught at import."""
    resource, _, action = permission.partition(":")
    if action not in STATEMENTS.get(resource, frozenset()):
        raise ValueError(f"unknown permission {permission!r}: add it to STATEMENTS first")
    return resource, action


def can(role: str, permission: str) -> bool:
    """Whether `role` may take the action `permission` ("resource:action")."""
    resource, action = parse_permission(permission)
    return action in ROLES.get(role, {}).get(resource, frozenset())


def can_grant(actor_role: str, role: str) -> bool:
    """Whether someone with `actor_role` may give `role` to a person (never above their own)."""
    return role in RANK and RANK[role] <= RANK.get(actor_role, 0)


def outranks(role: str, actor_role: str) -> bool:
    """Whether a member with `role` is above `actor_role` (and so out of the actor's reach)."""
    return RANK.get(role, 0) > RANK.get(actor_role, 0)


def grantable(actor_role: str) -> list[str]:
    """The roles `actor_role` may give, lowest first."""
    return sorted((r for r in RANK if can_grant(actor_role, r)), key=RANK.__getitem__)
