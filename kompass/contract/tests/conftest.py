"""Fixtures of the contract register: a contract with milestones, its vendor representative and another's."""

from datetime import date

import pytest

from kompass.contract.models import Contract, Milestone, Requirement
from kompass.core.models import RoleAssignment, User
from kompass.core.roles import Role
from kompass.testing.cast import PASSWORD


def make_representative(email: str) -> User:
    user = User.objects.create_user(email, PASSWORD, full_name=f"Rep {email.split('@')[0]}")
    RoleAssignment.objects.create(user=user, role=Role.VENDOR_REPRESENTATIVE)
    return user


@pytest.fixture
def contract(cast):
    contract = Contract.objects.create(
        name="Driftsavtale 2026",
        vendor_name="Driftsleverandør AS",
        signed_on=date(2026, 1, 15),
        takeover_on=date(2026, 5, 1),
        establishment_ends_on=date(2026, 11, 1),
        customer_representative=cast["agreement"],
        monthly_fee="1250000.00",
    )
    Milestone.objects.create(contract=contract, name="Driftsovertakelse", kind="takeover", due_on=date(2026, 5, 1))
    Milestone.objects.create(
        contract=contract, name="Etableringsperiodens slutt", kind="establishment_end", due_on=date(2026, 11, 1)
    )
    return contract


@pytest.fixture
def rep(contract):
    user = make_representative("rep@vendor.example")
    contract.vendor_representatives.add(user)
    return user


@pytest.fixture
def other_rep(db):
    """A vendor representative of another contract."""
    other = Contract.objects.create(name="Annen avtale", vendor_name="Annen AS")
    user = make_representative("other.rep@vendor.example")
    other.vendor_representatives.add(user)
    return user


@pytest.fixture
def requirements(contract):
    takeover = contract.milestones.get(kind="takeover")
    return [
        Requirement.objects.create(
            contract=contract, requirement_id=rid, position=i, chapter="1 Drift", text=f"Krav {rid}", milestone=takeover
        )
        for i, rid in enumerate(["1.1", "1.2", "1.10"], start=1)
    ]


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the UI is bokmål by default)."""
    from django.utils import translation

    with translation.override("en"):
        yield
