"""Tenant isolation, generated from the app's route table, so a new route is covered without editing this file.

Every route of the feature (the JSON API under /api/auth/organization/ and the pages under
/organizations) is called with the ids of another organization: in its path (`{org_id}`,
`{member_id}`, `{invitation_id}`), its query and its body. A member (even an owner) of
organization A must get 404 for every resource of organization B: not 403 (which would confirm
that it exists), not 200. Routes that name no organization resource are listed below with the
reason. Then every route whose guard asks for a permission is called by a plain member of A
with A's own ids: 403.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from tests.conftest import Inbox, unique_email
from tests.features.organizations.conftest import People
from tests.features.organizations.helpers import Person, create_org, invite_token, join

PREFIXES = ("/api/auth/organization/", "/organizations")
PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
# (method, path) -> why the route names no organization-scoped resource.
NOT_SCOPED = {
    ("POST", "/api/auth/organization/create"): "creates a new organization",
    ("GET", "/api/auth/organization/list"): "lists the caller's own organizations",
    ("POST", "/api/auth/organization/accept-invitation"): "takes the emailed token, bound to the invited address",
    ("POST", "/api/auth/organization/reject-invitation"): "takes the emailed token, bound to the invited address",
    ("GET", "/organizations"): "lists the caller's own organizations",
    ("GET", "/organizations/new"): "the creation form",
    ("POST", "/organizations/new"): "creates a new organization",
    ("GET", "/organizations/switcher"): "lists the caller's own organizations",
}


@dataclass
class Tenant:
    """An organization with a member besides its owner and a pending invitation."""

    org_id: str
    slug: str
    member_id: str
    invitation_id: str
    owner_member_id: str


SUB_RESOURCE_PARAMS = {"member_id", "invitation_id"}
SUB_RESOURCE_FIELDS = {"memberId", "memberIdOrEmail", "invitationId"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    params: tuple[str, ...]
    permission: str | None
    names_sub_resource: bool


def _body_fields(handler: HTTPRouteHandler) -> set[str]:
    """The JSON field names of a handler's `data` body, if it has one."""
    hint = get_type_hints(handler.fn, include_extras=True).get("data")
    if hint is None:
        return set()
    struct = get_args(hint)[0] if get_origin(hint) is Annotated else hint
    return {field.encode_name for field in msgspec.structs.fields(struct)}


def feature_routes(app: Litestar) -> list[Endpoint]:
    """Every (method, path) of the feature, from the route table."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(PREFIXES):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                params = tuple(PATH_PARAM.findall(route.path))
                sub = bool(SUB_RESOURCE_PARAMS & set(params) or SUB_RESOURCE_FIELDS & _body_fields(handler))
                found.append(Endpoint(method, route.path, params, handler.opt.get("permission"), sub))
    return found


async def tenant(owner: Person, inbox: Inbox, people: People, name: str) -> Tenant:
    org = await create_org(owner, name)
    (member,) = await people(1)
    member_id = await join(owner, member, inbox, org["id"])
    await invite_token(owner, inbox, org["id"], unique_email("pending"))
    (invitation,) = (await owner.get("list-invitations", organizationId=org["id"])).json()
    return Tenant(org["id"], org["slug"], member_id, invitation["id"], org["members"][0]["id"])


def _path(endpoint: Endpoint, org: Tenant, sub: Tenant) -> str:
    values = {"org_id": org.org_id, "member_id": sub.member_id, "invitation_id": sub.invitation_id}
    return PATH_PARAM.sub(lambda m: values[m.group(1)], endpoint.path)


def _fields(org: Tenant, sub: Tenant) -> dict[str, Any]:
    """Every id field any route reads, plus what bodies require, pointing at the given organization."""
    return {
        "organizationId": org.org_id,
        "organizationSlug": org.slug,
        "memberId": sub.member_id,
        "memberIdOrEmail": sub.member_id,
        "invitationId": sub.invitation_id,
        "role": "member",
        "email": unique_email("probe"),
        "name": "Hijacked",
        "slug": unique_email("hijack").split("@")[0],
        "confirm": org.slug,
        "data": {"name": "Hijacked"},
    }


async def call(caller: Person, endpoint: Endpoint, org: Tenant, sub: Tenant, csrf: str) -> Any:
    path = _path(endpoint, org, sub)
    fields = _fields(org, sub)
    query = {k: v for k, v in fields.items() if isinstance(v, str)}
    if endpoint.method == "GET":
        return await caller.client.get(path, params=query)
    if path.startswith("/api/"):
        return await caller.client.post(path, params=query, json=fields)
    form = query | {"_csrf_token": csrf}
    return await caller.client.post(path, data=form)


async def test_a_member_of_one_organization_gets_404_for_every_resource_of_another(
    app: Litestar, people: People, inbox: Inbox
) -> None:
    owner_a, owner_b = await people(2)
    a = await tenant(owner_a, inbox, people, "Org A")
    b = await tenant(owner_b, inbox, people, "Org B")
    (plain_a,) = await people(1)
    await join(owner_a, plain_a, inbox, a.org_id)
    endpoints = feature_routes(app)
    covered = {(e.method, e.path) for e in endpoints}
    assert set(NOT_SCOPED) <= covered, "NOT_SCOPED names a route that no longer exists"
    scoped = [e for e in endpoints if (e.method, e.path) not in NOT_SCOPED]
    assert len(scoped) >= 24, [(e.method, e.path) for e in scoped]
    checked = 0
    for caller in (owner_a, plain_a):
        csrf = await caller.client.csrf("/organizations/new")
        for endpoint in scoped:
            # B's organization id everywhere (and, see below, A's organization with B's sub-resources)
            variants = [(b, b)]
            if caller is owner_a and endpoint.names_sub_resource:
                variants.append((a, b))  # A's organization, which the caller owns, with B's member or invitation
            for org, sub in variants:
                response = await call(caller, endpoint, org, sub, csrf)
                assert response.status_code == 404, (
                    caller.email,
                    endpoint,
                    org.org_id,
                    response.status_code,
                    response.text[:300],
                )
                checked += 1
    mixed = [e.path for e in scoped if e.names_sub_resource]
    assert {"/api/auth/organization/remove-member", "/api/auth/organization/cancel-invitation"} <= set(mixed)
    assert checked == 2 * len(scoped) + len(mixed)
    full = (await owner_b.get("get-full-organization", organizationId=b.org_id)).json()
    assert full["name"] == "Org B" and full["slug"] == b.slug
    assert len(full["members"]) == 2 and [i["id"] for i in full["invitations"]] == [b.invitation_id]
    assert (await owner_b.client.get("/api/auth/get-session")).json()["session"]["activeOrganizationId"] == b.org_id


async def test_a_plain_member_is_refused_every_admin_and_owner_action_of_their_own_organization(
    app: Litestar, people: People, inbox: Inbox
) -> None:
    (owner,) = await people(1)
    a = await tenant(owner, inbox, people, "Org A")
    (plain,) = await people(1)
    await join(owner, plain, inbox, a.org_id)
    guarded = [e for e in feature_routes(app) if e.permission is not None]
    assert {e.permission for e in guarded} >= {
        "organization:update",
        "organization:delete",
        "member:update",
        "member:delete",
        "invitation:create",
        "invitation:cancel",
    }
    csrf = await plain.client.csrf("/organizations/new")
    target = Tenant(a.org_id, a.slug, a.owner_member_id, a.invitation_id, a.owner_member_id)
    for endpoint in guarded:
        response = await call(plain, endpoint, a, target, csrf)
        assert response.status_code == 403, (endpoint, response.status_code, response.text[:300])
    full = (await owner.get("get-full-organization", organizationId=a.org_id)).json()
    assert full["name"] == "Org A" and len(full["members"]) == 3 and len(full["invitations"]) == 1
