"""The portfolio's test world: systems in alfa, beta and gamma, a beta system owner, a national register."""

import pytest

from kompass.core.models import RoleAssignment, System, User
from kompass.core.roles import Role
from kompass.portfolio.models import ExternalParty


@pytest.fixture
def beta_owner(agencies):
    user = User.objects.create_user("beta.owner@test.example", "x", full_name="Beta Owner")
    RoleAssignment.objects.create(user=user, role=Role.SYSTEM_OWNER, agency=agencies["beta"])
    return user


@pytest.fixture
def world(agencies, cast, beta_owner):
    """Systems: two in alfa, one each in beta and gamma; Folkeregisteret as an external provider."""
    return {
        "alfa_sak": System.objects.create(name="Sak", agency=agencies["alfa"], system_owner=cast["owner"]),
        "alfa_arkiv": System.objects.create(name="Arkiv", agency=agencies["alfa"], system_owner=cast["owner"]),
        "beta_hr": System.objects.create(name="HR", agency=agencies["beta"], system_owner=beta_owner),
        "gamma_gis": System.objects.create(name="GIS", agency=agencies["gamma"]),
        "freg": ExternalParty.objects.create(name="Folkeregisteret", kind=ExternalParty.Kind.NATIONAL_REGISTER),
    }
