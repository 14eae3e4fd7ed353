"""The governance flow: request → review by the providing side → approve/reject → activate; legal basis."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from kompass.portfolio import services
from kompass.portfolio.models import DataSet, GovernanceDecision, Integration

pytestmark = pytest.mark.django_db


def request(user, world, **extra):
    fields = {
        "name": "Ansatte til saksbehandling",
        "provider_system": world["beta_hr"],
        "consumer_system": world["alfa_sak"],
        "technology": Integration.Technology.API,
    }
    return services.request_integration(user, **{**fields, **extra})


def test_it_walks_request_approve_activate(world, cast, beta_owner):
    integration = request(cast["owner"], world)
    assert integration.status == Integration.Status.REQUESTED
    assert integration.approved_at is None
    services.approve_integration(integration, beta_owner, reason="Ok for formålet")
    integration = services.activate_integration(Integration.objects.get(pk=integration.pk), cast["owner"])
    assert integration.status == Integration.Status.ACTIVE
    decisions = list(integration.decisions.values_list("kind", "decided_by", "reason"))
    assert decisions == [
        ("requested", cast["owner"].pk, ""),
        ("approved", beta_owner.pk, "Ok for formålet"),
        ("activated", cast["owner"].pk, ""),
    ]
    # Every decision and status change is in the audit trail, with its actor.
    entries = LogEntry.objects.get_for_objects(GovernanceDecision.objects.filter(integration=integration))
    assert {e.actor_id for e in entries} == {cast["owner"].pk, beta_owner.pk}
    status_changes = [
        e.changes_dict["status"] for e in LogEntry.objects.get_for_object(integration) if "status" in e.changes_dict
    ]
    assert ["requested", "approved"] in status_changes and ["approved", "active"] in status_changes


def test_only_the_providing_side_reviews(world, cast, beta_owner):
    integration = request(cast["owner"], world)
    for user in (cast["owner"], cast["agreement"], cast["it_contact"], cast["kam"], cast["desk"]):
        assert not services.may_review(user, integration)
        with pytest.raises(PermissionDenied):
            services.approve_integration(integration, user)
    assert Integration.objects.get(pk=integration.pk).status == Integration.Status.REQUESTED
    assert services.may_review(beta_owner, integration)


def test_nobody_approves_their_own_request(world, beta_owner):
    integration = request(beta_owner, world)  # the provider's owner registers it herself
    with pytest.raises(PermissionDenied):
        services.approve_integration(integration, beta_owner)


def test_rejection_needs_a_reason_and_ends_the_request(world, cast, beta_owner):
    integration = request(cast["owner"], world)
    with pytest.raises(ValidationError):
        services.reject_integration(integration, beta_owner, reason="  ")
    assert Integration.objects.get(pk=integration.pk).status == Integration.Status.REQUESTED
    services.reject_integration(integration, beta_owner, reason="Ikke hjemmel for formålet")
    integration.refresh_from_db()
    assert integration.status == Integration.Status.REJECTED
    with pytest.raises(services.GovernanceError):
        services.approve_integration(integration, beta_owner)
    with pytest.raises(services.GovernanceError):
        services.activate_integration(integration, cast["owner"])


def test_nothing_becomes_active_without_approval(world, cast):
    integration = request(cast["owner"], world)
    with pytest.raises(services.GovernanceError):
        services.activate_integration(integration, cast["owner"])
    assert Integration.objects.get(pk=integration.pk).status == Integration.Status.REQUESTED
    # Not even by writing the row directly: the database refuses an active row without an approval.
    with pytest.raises(IntegrityError), transaction.atomic():
        Integration.objects.filter(pk=integration.pk).update(status=Integration.Status.ACTIVE)


def test_external_provider_is_reviewed_centrally(world, cast):
    integration = request(
        cast["owner"],
        world,
        provider_system=None,
        provider_party=world["freg"],
        personal_data=True,
        legal_basis_kind=Integration.LegalBasisKind.LAW,
        legal_basis_reference="folkeregisterloven § 10-2",
    )
    assert not services.may_review(cast["owner"], integration)
    services.approve_integration(integration, cast["agreement"])
    assert Integration.objects.get(pk=integration.pk).status == Integration.Status.APPROVED


def test_only_system_owners_of_a_side_may_request(world, cast):
    for key in ("it_contact", "kam", "desk", "requester", "noroles"):
        with pytest.raises(PermissionDenied):
            request(cast[key], world)
    with pytest.raises(PermissionDenied):  # alfa's owner cannot request between beta and gamma
        request(cast["owner"], world, consumer_system=world["gamma_gis"])
    assert not Integration.objects.exists()


def test_a_replacement_retires_the_integration_it_replaces(world, cast, beta_owner):
    old = request(cast["owner"], world)
    services.approve_integration(old, beta_owner)
    old = services.activate_integration(old, cast["owner"])
    new = request(cast["owner"], world, name="Ansatte v2", supersedes=old)
    services.approve_integration(new, beta_owner)
    services.activate_integration(new, cast["owner"])
    old.refresh_from_db()
    assert old.status == Integration.Status.RETIRED
    assert old.decisions.last().kind == GovernanceDecision.Kind.RETIRED


# --- legal basis ------------------------------------------------------------------------------


def test_personal_data_requires_a_legal_basis(world, cast):
    with pytest.raises(ValidationError) as error:
        request(cast["owner"], world, personal_data=True)
    assert {"legal_basis_kind", "legal_basis_reference"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        request(cast["owner"], world, personal_data=True, legal_basis_kind="law", legal_basis_reference=" ")
    assert set(error.value.message_dict) == {"legal_basis_reference"}
    assert not Integration.objects.exists()
    assert not GovernanceDecision.objects.exists()
    ok = request(
        cast["owner"], world, personal_data=True, legal_basis_kind="agreement", legal_basis_reference="Avtale 2026-14"
    )
    assert ok.pk


def test_a_data_set_with_personal_data_makes_the_flow_personal(world, cast):
    persons = DataSet.objects.create(name="Personer", personal_data=True)
    with pytest.raises(ValidationError):
        request(cast["owner"], world, data_sets=[persons])
    integration = request(
        cast["owner"], world, data_sets=[persons], legal_basis_kind="consent", legal_basis_reference="Samtykke i skjema"
    )
    assert integration.personal_data


def test_the_database_refuses_personal_data_without_legal_basis(world, cast):
    integration = request(cast["owner"], world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Integration.objects.filter(pk=integration.pk).update(personal_data=True)


def test_each_side_is_a_system_or_an_external_party(world, cast):
    with pytest.raises(ValidationError):
        request(cast["owner"], world, provider_party=world["freg"])  # both on the provider side
    with pytest.raises(ValidationError):
        request(cast["owner"], world, provider_system=world["alfa_sak"])  # with itself
    assert not Integration.objects.exists()
