"""Invitations: single use, stored hashed, 48 hours, bound to the invited address, resend and cancel."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import select

from app.core.db import utcnow
from app.features.organizations.models import Invitation
from tests.conftest import BASE_URL, STRONG_PASSWORD, Client, Inbox, sign_up_api, unique_email
from tests.features.organizations.conftest import People
from tests.features.organizations.helpers import create_org, invite_token


async def _invitations(app: Litestar) -> list[Invitation]:
    async with app.state.db.sessions() as db:
        return list((await db.exec(select(Invitation))).all())


async def test_the_link_is_single_use_hashed_and_lasts_48_hours(app: Litestar, people: People, inbox: Inbox) -> None:
    owner, bob = await people(2)
    org = await create_org(owner, "Acme")
    token = await invite_token(owner, inbox, org["id"], bob.email, "admin")
    mail = await inbox.last(bob.email)
    assert "Acme" in mail.subject and "admin" in mail.text
    (row,) = await _invitations(app)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(row.model_dump())
    assert timedelta(hours=47, minutes=59) < row.expires_at - utcnow() <= timedelta(hours=48)
    accepted = await bob.post("accept-invitation", {"token": token})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["member"]["role"] == "admin" and accepted.json()["invitation"]["status"] == "accepted"
    assert (await bob.client.get("/api/auth/get-session")).json()["session"]["activeOrganizationId"] == org["id"]
    again = await bob.post("accept-invitation", {"token": token})
    assert again.status_code == 400 and again.json()["code"] == "INVALID_INVITATION"
    (row,) = await _invitations(app)
    assert row.token_hash is None and row.status == "accepted"


async def test_another_address_cannot_accept(app: Litestar, people: People, inbox: Inbox) -> None:
    owner, bob, eve = await people(3)
    org = await create_org(owner)
    token = await invite_token(owner, inbox, org["id"], bob.email)
    refused = await eve.post("accept-invitation", {"token": token})
    assert refused.status_code == 403 and refused.json()["code"] == "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION"
    assert (await eve.post("reject-invitation", {"token": token})).status_code == 403
    assert (await eve.get("get-full-organization", organizationId=org["id"])).status_code == 404
    assert (await bob.post("accept-invitation", {"token": token})).status_code == 200


async def test_expired_declined_canceled_and_resent_links_stop_working(
    app: Litestar, people: People, inbox: Inbox
) -> None:
    owner, bob = await people(2)
    org = await create_org(owner)
    token = await invite_token(owner, inbox, org["id"], bob.email)
    async with app.state.db.sessions() as db:
        await db.exec(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    expired = await bob.post("accept-invitation", {"token": token})
    assert expired.status_code == 400 and expired.json()["code"] == "INVALID_INVITATION"

    renewed = await owner.post("invite-member", {"organizationId": org["id"], "email": bob.email, "resend": True})
    assert renewed.status_code == 200
    fresh = parse_qs(urlsplit((await inbox.last(bob.email)).link("/invitations/accept")).query)["token"][0]
    assert fresh != token and (await bob.post("accept-invitation", {"token": token})).status_code == 400
    declined = await bob.post("reject-invitation", {"token": fresh})
    assert declined.status_code == 200 and declined.json()["invitation"]["status"] == "rejected"
    assert (await bob.post("accept-invitation", {"token": fresh})).status_code == 400

    other = unique_email("other")  # (a third mail to bob within a minute would hit the per-address mail limit)
    third = await invite_token(owner, inbox, org["id"], other)
    assert (await owner.client.get(f"/invitations/accept?token={third}")).status_code == 200
    (pending,) = (await owner.get("list-invitations", organizationId=org["id"])).json()
    assert pending["email"] == other and pending["status"] == "pending"
    canceled = await owner.post("cancel-invitation", {"invitationId": pending["id"]})
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert (await owner.client.get(f"/invitations/accept?token={third}")).status_code == 400
    assert (await owner.get("list-invitations", organizationId=org["id"])).json() == []
    assert (await owner.post("cancel-invitation", {"invitationId": pending["id"]})).status_code == 404


async def test_no_duplicate_invitations_and_no_invitation_for_a_member(people: People, inbox: Inbox) -> None:
    owner, bob = await people(2)
    org = await create_org(owner)
    oid = {"organizationId": org["id"]}
    assert (
        (await owner.post("invite-member", {**oid, "email": owner.email}))
        .json()["code"]
        .startswith("USER_IS_ALREADY_A_MEMBER")
    )
    await invite_token(owner, inbox, org["id"], bob.email)
    twice = await owner.post("invite-member", {**oid, "email": bob.email.upper()})
    assert twice.status_code == 400 and twice.json()["code"] == "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION"
    bad = await owner.post("invite-member", {**oid, "email": "not an email"})
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    bad_role = await owner.post("invite-member", {**oid, "email": unique_email(), "role": "emperor"})
    assert bad_role.status_code == 400


async def test_someone_without_an_account_signs_up_and_lands_back_on_the_invitation(
    app: Litestar, people: People, inbox: Inbox, client: Client
) -> None:
    (owner,) = await people(1)
    org = await create_org(owner, "<b>Acme</b> & Co")
    newcomer = unique_email("newcomer")
    token = await invite_token(owner, inbox, org["id"], newcomer)
    link = f"/invitations/accept?token={token}"
    anonymous = await client.get(link)
    assert anonymous.status_code == 200
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in anonymous.text and "<b>Acme</b>" not in anonymous.text
    sign_up_href = f'href="/sign-up?next=%2Finvitations%2Faccept%3Ftoken%3D{token}"'
    assert sign_up_href in anonymous.text and "/sign-in?next=" in anonymous.text
    assert (await sign_up_api(client, newcomer)).status_code == 200
    signed_in = await client.submit(
        "/sign-in", {"email": newcomer, "password": STRONG_PASSWORD, "next": link}, page="/sign-in?next=x"
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == link
    page = await client.get(link)
    assert "Accept and join" in page.text
    accepted = await client.submit("/invitations/accept", {"token": token}, page=link)
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/organizations/{org['id']}"
    welcome = await client.get(accepted.headers["location"])
    assert "you are now a member" in welcome.text
    used = await client.get(link)
    assert used.status_code == 400 and "Invitation not available" in used.text


async def test_the_page_refuses_another_account_and_anyone_with_the_link_may_decline(
    app: Litestar, people: People, inbox: Inbox, client: Client
) -> None:
    owner, eve = await people(2)
    org = await create_org(owner, "Acme")
    invited = unique_email("invited")
    token = await invite_token(owner, inbox, org["id"], invited)
    link = f"/invitations/accept?token={token}"
    wrong = await eve.client.get(link)
    assert "Signed in with another address" in wrong.text and "Accept and join" not in wrong.text
    forced = await eve.client.submit("/invitations/accept", {"token": token}, page="/organizations/new")
    assert forced.status_code == 422 and "sent to another email address" in forced.text
    declined = await client.submit("/invitations/decline", {"token": token}, page=link)
    assert declined.status_code == 200 and "Invitation declined" in declined.text
    gone = await owner.get("list-invitations", organizationId=org["id"])
    assert gone.json() == []
    garbage = await client.get("/invitations/accept?token=" + "x" * 5000)
    assert garbage.status_code == 400
    async with Client(app=app, base_url=BASE_URL) as nobody:
        assert (await nobody.get("/invitations/accept")).status_code == 400
