"""The contract app's matrix, role by role (hand-written, not derived from the matrix)."""

import pytest

from kompass.contract.models import Contract, Evidence, Requirement
from kompass.core import access

pytestmark = pytest.mark.django_db

SEES_EVERY_CONTRACT = {"admin", "agreement"}


@pytest.mark.parametrize(
    "key",
    ["admin", "agreement", "desk", "kam", "it_contact", "owner", "agency_admin", "vendor", "requester", "noroles"],
)
def test_who_sees_the_register(cast, contract, requirements, key):
    user = cast[key]
    expected = key in SEES_EVERY_CONTRACT
    assert Contract.objects.restrict(user, "view").filter(pk=contract.pk).exists() is expected
    assert Requirement.objects.restrict(user, "view").count() == (3 if expected else 0)
    assert access.can(user, "verify", requirements[0]) is expected
    assert access.can(user, "import", contract) is expected


def test_a_representative_sees_only_their_contract(rep, other_rep, contract, requirements):
    assert list(Contract.objects.restrict(rep, "view")) == [contract]
    assert Requirement.objects.restrict(rep, "view").count() == 3
    assert access.can(rep, "view", requirements[0]) and access.can(rep, "progress", requirements[0])
    assert not access.can(rep, "verify", requirements[0])
    assert not access.can(rep, "change", requirements[0]) and not access.can(rep, "import", contract)
    unsaved = Evidence(requirement=requirements[0], kind="link", url="https://x.example/", added_by=rep)
    assert access.can(rep, "create", unsaved)
    assert not access.can(other_rep, "create", unsaved)
    assert Requirement.objects.restrict(other_rep, "view").count() == 0
    assert not access.can(other_rep, "view", requirements[0])


def test_a_representative_sees_no_agency_data(rep, cast, systems):
    from kompass.core.models import Agency, System, User

    assert not Agency.objects.restrict(rep, "view").exists()
    assert not System.objects.restrict(rep, "view").exists()
    assert list(User.objects.restrict(rep, "view").exclude(pk=rep.pk)) == []
