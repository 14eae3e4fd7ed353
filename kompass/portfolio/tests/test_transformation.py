"""Transformation rules: dependency conflicts when a wave is planned, burn-down and progress."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import override

from kompass.core.models import System
from kompass.portfolio import services
from kompass.portfolio.models import InfrastructureItem, Integration, MigrationWave, Transformation

pytestmark = pytest.mark.django_db


@pytest.fixture
def waves(db):
    return {
        1: MigrationWave.objects.create(name="Bølge 1", starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 3, 31)),
        2: MigrationWave.objects.create(name="Bølge 2", starts_on=dt.date(2027, 4, 1), ends_on=dt.date(2027, 6, 30)),
    }


@pytest.fixture
def active(world, cast, beta_owner):
    """Sak (alfa) consumes HR (beta): Sak depends on HR."""
    integration = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    services.approve_integration(integration, beta_owner)
    return services.activate_integration(integration, cast["owner"])


def plan(system, wave, user):
    return services.plan_wave(services.transformation_of(system), wave, user)


@override("en")
def test_moving_before_a_dependency_is_flagged(world, cast, waves, active):
    conflicts = plan(world["alfa_sak"], waves[1], cast["agreement"])
    assert [(c.system_id, c.depends_on_id, c.integration_id) for c in conflicts] == [
        (world["alfa_sak"].pk, world["beta_hr"].pk, active.pk)
    ]
    assert "no migration wave" in conflicts[0].reason
    # The provider planned in a later wave: still a conflict.
    conflicts = plan(world["beta_hr"], waves[2], cast["agreement"])
    assert len(conflicts) == 1 and "later wave" in conflicts[0].reason
    # The same wave: they move together, no conflict.
    assert plan(world["beta_hr"], waves[1], cast["agreement"]) == []
    assert services.dependency_conflicts() == []


def test_provider_first_is_fine_and_a_moved_provider_never_conflicts(world, cast, waves, active):
    assert plan(world["beta_hr"], waves[1], cast["agreement"]) == []
    assert plan(world["alfa_sak"], waves[2], cast["agreement"]) == []
    provider = services.transformation_of(world["beta_hr"])
    provider.wave = waves[2]
    provider.status, provider.completed_on = Transformation.Status.MIGRATED, dt.date(2027, 2, 1)
    provider.save()
    assert plan(world["alfa_sak"], waves[1], cast["agreement"]) == []


def test_a_tolerant_integration_does_not_bind(world, cast, waves, active):
    Integration.objects.filter(pk=active.pk).update(tolerant=True)
    assert plan(world["alfa_sak"], waves[1], cast["agreement"]) == []


def test_requested_or_retired_integrations_do_not_bind(world, cast, waves):
    services.request_integration(
        cast["owner"], name="Ønsket", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    assert plan(world["alfa_sak"], waves[1], cast["agreement"]) == []


def test_planning_needs_change_rights_and_a_not_yet_moved_system(world, cast, waves):
    with pytest.raises(PermissionDenied):
        plan(world["beta_hr"], waves[1], cast["owner"])  # alfa's owner, beta's system
    with pytest.raises(PermissionDenied):
        plan(world["alfa_sak"], waves[1], cast["it_contact"])
    transformation = services.transformation_of(world["alfa_arkiv"])
    transformation.status, transformation.completed_on = Transformation.Status.MIGRATED, dt.date(2027, 1, 5)
    transformation.save()
    with pytest.raises(ValidationError):
        plan(world["alfa_arkiv"], waves[1], cast["agreement"])
    assert services.transformation_of(world["beta_hr"]).wave is None


def test_a_blocked_system_needs_its_blockers_described(world):
    transformation = services.transformation_of(world["alfa_sak"])
    transformation.blocked = True
    with pytest.raises(ValidationError) as error:
        transformation.full_clean()
    assert "blockers" in error.value.message_dict


def test_burn_down_plan_against_actual(world, cast, waves):
    sak, arkiv = world["alfa_sak"], world["alfa_arkiv"]
    plan(sak, waves[1], cast["agreement"])
    plan(arkiv, waves[2], cast["agreement"])
    InfrastructureItem.objects.create(system=sak, kind="server", name="srv-sak-01")
    InfrastructureItem.objects.create(
        system=sak, kind="database", name="db-sak", decommissioned_on=dt.date(2027, 2, 10)
    )
    InfrastructureItem.objects.create(system=arkiv, kind="storage", name="san-arkiv", legacy_platform=False)
    done = services.transformation_of(sak)
    done.status, done.completed_on = Transformation.Status.MIGRATED, dt.date(2027, 2, 15)
    done.save()
    points = services.burn_down(
        System.objects.filter(agency=sak.agency),
        start=dt.date(2027, 1, 1),
        end=dt.date(2027, 8, 1),
        today=dt.date(2027, 5, 20),
    )
    by_month = {p.day.month: p for p in points}
    assert [p.day for p in points][0] == dt.date(2027, 1, 1) and len(points) == 8
    assert (by_month[1].systems_planned, by_month[1].systems_actual) == (2, 2)
    assert (by_month[3].systems_planned, by_month[3].systems_actual) == (2, 1)  # wave 1 ends 31 March
    assert (by_month[4].systems_planned, by_month[4].systems_actual) == (1, 1)
    assert (by_month[7].systems_planned, by_month[7].systems_actual) == (0, None)  # future: no actual
    assert (by_month[1].items_planned, by_month[1].items_actual) == (2, 2)  # the non-legacy item never counts
    assert (by_month[3].items_planned, by_month[3].items_actual) == (2, 1)
    assert by_month[4].items_planned == 0


def test_progress_per_agency(world, cast, waves, agencies):
    done = services.transformation_of(world["alfa_sak"])
    done.status, done.completed_on = Transformation.Status.DECOMMISSIONED, dt.date(2027, 1, 2)
    done.save()
    progress = {row["agency"]: row for row in services.progress_by_agency(System.objects.all())}
    assert progress["Bydel Alfa"]["total"] == 2
    assert progress["Bydel Alfa"]["moved"] == 1 and progress["Bydel Alfa"]["percent"] == 50
    assert progress["Bydel Alfa"]["statuses"] == {"decommissioned": 1, "unassessed": 1}
    assert progress["Bydel Beta"]["moved"] == 0
