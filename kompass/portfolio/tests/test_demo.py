"""The portfolio's demo data: realistic, deterministic and idempotent (after core's demo load)."""

import io

import pytest
from django.core.management import call_command

from kompass.core.models import System
from kompass.portfolio import services
from kompass.portfolio.models import GovernanceDecision, InfrastructureItem, Integration, SystemProfile, Transformation

pytestmark = pytest.mark.django_db


def run():
    out = io.StringIO()
    call_command("demo_data", seed=2026, stdout=out)
    return out.getvalue()


def snapshot():
    return {
        "profiles": sorted(SystemProfile.objects.values_list("system_id", "hosting", "personal_data")),
        "transformations": sorted(Transformation.objects.values_list("system_id", "path", "wave_id", "status")),
        "items": InfrastructureItem.objects.count(),
        "integrations": sorted(Integration.objects.values_list("name", "status", "legal_basis_reference")),
        "decisions": GovernanceDecision.objects.count(),
    }


@pytest.mark.slow
def test_demo_portfolio_is_realistic_and_idempotent():
    out = run()
    assert "Portfolio:" in out
    systems = System.objects.count()
    assert SystemProfile.objects.count() == systems == Transformation.objects.count()
    assert InfrastructureItem.objects.filter(legacy_platform=True).count() > systems
    # National registers with legal bases; personal data never flows without one.
    freg = Integration.objects.filter(provider_party__name="Folkeregisteret")
    assert freg.count() > 50
    assert set(freg.values_list("legal_basis_reference", flat=True)) == {"folkeregisterloven § 10-2"}
    assert not Integration.objects.filter(personal_data=True, legal_basis_reference="").exists()
    # Every approved, active or retired integration has its approval in the decisions.
    for integration in Integration.objects.filter(status__in=["approved", "active", "retired"])[:50]:
        assert integration.decisions.filter(kind="approved").exists()
    assert Integration.objects.filter(status="requested").exists()
    # Some done, some blocked, some conflicts; and everything touches the right agencies.
    statuses = set(Transformation.objects.values_list("status", flat=True))
    assert {"migrated", "in_migration", "planned", "assessed"} <= statuses
    assert Transformation.objects.filter(blocked=True).exists()
    assert services.dependency_conflicts()
    cross = Integration.objects.filter(provider_system__isnull=False).exclude(
        provider_system__agency=models_f("consumer_system__agency")
    )
    assert all(i.agencies.count() == 2 for i in cross[:20])
    before = snapshot()
    run()
    assert snapshot() == before


def models_f(name):
    from django.db.models import F

    return F(name)
