"""Who may do what in the admin console: roles as permission statements (Better Auth's admin plugin's).

A user's `role` column names one role, or several joined by commas; their permissions are the
union of those roles'. A team extends this in one place: add actions to `STATEMENTS` and give
roles the actions they may take. Whoever holds no permission of `STATEMENTS` at all does not see
the console (every admin route answers them 404); a console user without a route's permission
gets 403. Nobody grants more than they hold: a role may be given, or taken from someone, only
by a user who holds every permission of it (see `can_grant`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

STATEMENTS: Mapping[str, frozenset[str]] = {
    "user": frozenset({"create", "list", "get", "set-role", "ban", "impersonate", "delete", "set-password", "update"}),
    "session": frozenset({"list", "revoke"}),
    "stats": frozenset({"view"}),  # the dashboard: counts of sign-ups, sign-ins, bans ... per day
    "audit": frozenset({"list", "export"}),  # the audit log: read it, download it
}

ADMIN = "admin"
SUPPORT = "support"
USER = "user"

ROLES: Mapping[str, Mapping[str, frozenset[str]]] = {
    ADMIN: STATEMENTS,
    # Helps people without owning the app: finds accounts, ends sessions, gives the support role.
    SUPPORT: {
        "user": frozenset({"list", "get", "set-role"}),
        "session": frozenset({"list", "revoke"}),
        "stats": frozenset({"view"}),
        "audit": frozenset({"list"}),
    },
    USER: {},
}
ROLE_LABELS: Mapping[str, str] = {ADMIN: "Admin", SUPPORT: "Support", USER: "User"}

Permissions = frozenset[tuple[str, str]]


def parse_permission(permission: str) -> tuple[str, str]:
    """`"user:ban"` -> ("user", "ban"); a typo is a programming error, caught at import."""
    resource, _, action = permission.partition(":")
    if action not in STATEMENTS.get(resource, frozenset()):
        raise ValueError(f"unknown permission {permission!r}: add it to STATEMENTS first")
    return resource, action


def roles_of(role: str | None) -> list[str]:
    """The roles named by a `role` column ("admin,support" -> both)."""
    return [name.strip() for name in (role or "").split(",") if name.strip()]


def permissions(role: str | None) -> Permissions:
    """Every (resource, action) the roles in `role` allow together."""
    return frozenset(
        (resource, action)
        for name in roles_of(role)
        for resource, actions in ROLES.get(name, {}).items()
        for action in actions
    )


def can(role: str | None, permission: str) -> bool:
    """Whether `role` may take the action `permission` ("resource:action")."""
    return parse_permission(permission) in permissions(role)


def has_all(role: str | None, wanted: Mapping[str, Iterable[str]]) -> bool:
    """Whether `role` holds every action asked ({"user": ["ban"], ...}), as has-permission checks."""
    held = permissions(role)
    return all((resource, action) in held for resource, actions in wanted.items() for action in actions)


def is_console_user(role: str | None) -> bool:
    """Whether `role` holds any admin permission: the console exists for them."""
    return bool(permissions(role))


def can_grant(actor_role: str | None, role: str | None) -> bool:
    """Whether someone with `actor_role` may give `role`, or take it away: never more than they hold."""
    return permissions(role) <= permissions(actor_role)


def unknown_roles(role: str) -> list[str]:
    """The names in `role` that no role of `ROLES` has."""
    return [name for name in roles_of(role) if name not in ROLES]


def grantable(actor_role: str | None) -> list[str]:
    """The roles `actor_role` may give, as `ROLES` lists them."""
    return [name for name in ROLES if can_grant(actor_role, name)]


def holders(permission: str) -> frozenset[str]:
    """The roles that allow `permission` (who sees the console's link to the page needing it)."""
    return frozenset(name for name in ROLES if can(name, permission))
