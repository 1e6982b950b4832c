"""The cards of a user's page that the console does not keep itself: how they sign in, and the features' cards.

The "Sign-in" card is read through the auth kit (the user's accounts, the second-factor gate), and
its words come from `UI.labels`, so it names no feature: a password, each linked provider (in the
words of the feature that links it), each second factor the user can pass. Every other card is a
feature's `UI.staff_sections` entry (what that feature keeps of the user), included with its
context under `staff[key]`, as the security page includes `UI.sections`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import CREDENTIAL_PROVIDER, AuthKit, User, method_label
from app.core.ui import Section


@dataclass(frozen=True)
class SignInMethods:
    """How one user can sign in, in words."""

    password: bool
    providers: tuple[str, ...]  # the linked providers in words, oldest link first
    second_factors: tuple[str, ...]  # the labels of the factors they can pass, in the gate's order


@dataclass(frozen=True)
class StaffCards:
    """The features' cards about one user: templates to include, in feature order, and their data by key."""

    templates: list[str]
    data: dict[str, Mapping[str, Any]]


async def sign_in_methods(
    db: AsyncSession, kit: AuthKit, labels: Mapping[str, str], user_id: uuid.UUID
) -> SignInMethods:
    """The user's password, linked providers and second factors (two small queries)."""
    providers = await kit.account_providers(db, user_id)
    factors = await kit.gate.enrolled(db, user_id)
    return SignInMethods(
        password=CREDENTIAL_PROVIDER in providers,
        providers=tuple(method_label(p, labels) for p in providers if p != CREDENTIAL_PROVIDER),
        second_factors=tuple(factor.label for factor in factors),
    )


async def staff_cards(db: AsyncSession, sections: Sequence[Section], person: User) -> StaffCards:
    """Each feature's card about `person`, with the data its context reads for them."""
    data = {s.key: await s.context(db, person) for s in sections if s.context is not None}
    return StaffCards([s.template for s in sections], data)
