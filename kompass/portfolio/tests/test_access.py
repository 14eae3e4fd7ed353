"""Per-agency access: an agency sees its own systems' portfolio rows and the integrations touching them."""

import pytest

from kompass.core import access
from kompass.portfolio import services
from kompass.portfolio.models import GovernanceDecision, Integration, SystemProfile, Transformation

pytestmark = pytest.mark.django_db


@pytest.fixture
def flows(world, cast, beta_owner, agencies):
    """alfa ← beta (touches alfa and beta), beta → gamma (touches neither alfa), Folkeregisteret → alfa."""
    into_alfa = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    beta_gamma = services.request_integration(
        beta_owner, name="HR til GIS", provider_system=world["beta_hr"], consumer_system=world["gamma_gis"]
    )
    freg = services.request_integration(
        cast["owner"],
        name="Folkeregisteret til Sak",
        provider_party=world["freg"],
        consumer_system=world["alfa_sak"],
        personal_data=True,
        legal_basis_kind="law",
        legal_basis_reference="folkeregisterloven § 10-2",
    )
    for system in world.values():
        if hasattr(system, "agency"):
            services.profile_of(system)
            services.transformation_of(system)
    return {"into_alfa": into_alfa, "beta_gamma": beta_gamma, "freg": freg}


def test_an_agency_sees_the_integrations_touching_its_systems_and_nothing_else(flows, cast, beta_owner):
    alfa_view = {flows["into_alfa"], flows["freg"]}
    for key in ("it_contact", "owner", "agency_admin"):
        assert set(Integration.objects.restrict(cast[key], "view")) == alfa_view, key
        assert not access.can(cast[key], "view", flows["beta_gamma"])
        assert set(GovernanceDecision.objects.restrict(cast[key], "view").values_list("integration", flat=True)) == {
            i.pk for i in alfa_view
        }
    # The key account manager serves alfa and gamma: gamma's integration too.
    assert set(Integration.objects.restrict(cast["kam"], "view")) == alfa_view | {flows["beta_gamma"]}
    assert access.can(cast["kam"], "view", flows["beta_gamma"])
    assert set(Integration.objects.restrict(beta_owner, "view")) == {flows["into_alfa"], flows["beta_gamma"]}
    for key in ("agreement", "desk", "admin"):
        assert Integration.objects.restrict(cast[key], "view").count() == 3
    for key in ("vendor", "requester", "noroles"):
        assert not Integration.objects.restrict(cast[key], "view").exists()
    # An integration touching two of the user's agencies is listed once.
    assert Integration.objects.restrict(cast["agreement"], "view").filter(pk=flows["into_alfa"].pk).count() == 1


def test_an_agency_sees_its_own_systems_portfolio_rows_only(flows, cast, world):
    alfa = {world["alfa_sak"].pk, world["alfa_arkiv"].pk}
    for key in ("it_contact", "owner", "agency_admin"):
        for model in (SystemProfile, Transformation):
            assert set(model.objects.restrict(cast[key], "view").values_list("system", flat=True)) == alfa, key
    for key in ("vendor", "requester", "noroles"):
        assert not SystemProfile.objects.restrict(cast[key], "view").exists()


def test_changes_are_for_the_agencys_maintainers(flows, cast, world):
    alfa_profile = services.profile_of(world["alfa_sak"])
    beta_profile = services.profile_of(world["beta_hr"])
    for key in ("owner", "agency_admin", "agreement", "admin"):
        assert access.can(cast[key], "change", alfa_profile)
    for key in ("it_contact", "kam", "desk", "requester", "vendor", "noroles"):
        assert not access.can(cast[key], "change", alfa_profile)
    assert not access.can(cast["owner"], "change", beta_profile)
    assert access.can(cast["owner"], "change", flows["into_alfa"])
    assert not access.can(cast["owner"], "change", flows["beta_gamma"])


def test_moving_a_system_to_another_agency_moves_its_integrations(flows, cast, world, agencies):
    system = world["gamma_gis"]
    system.agency = agencies["alfa"]
    system.save()
    assert flows["beta_gamma"] in Integration.objects.restrict(cast["owner"], "view")
