"""The status workflow, evidence and progress (kompass.contract.services)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kompass.contract import services
from kompass.contract.models import Evidence, Requirement, RequirementComment

pytestmark = pytest.mark.django_db
S = Requirement.Status


def test_it_moves_a_requirement_and_records_the_comment(cast, requirements):
    requirement = requirements[0]
    services.set_status(requirement, S.IN_PROGRESS, user=cast["agreement"], comment="Startet")
    requirement.refresh_from_db()
    assert requirement.status == S.IN_PROGRESS
    comment = RequirementComment.objects.get(requirement=requirement)
    assert (comment.status_from, comment.status_to, comment.text) == (S.NOT_STARTED, S.IN_PROGRESS, "Startet")


def test_it_refuses_a_jump_the_workflow_does_not_allow(cast, requirements):
    with pytest.raises(ValidationError, match="cannot go from"):
        services.set_status(requirements[0], S.APPROVED, user=cast["agreement"])
    requirements[0].refresh_from_db()
    assert requirements[0].status == S.NOT_STARTED


def test_a_deviation_needs_remediation_and_due_date(cast, requirements):
    with pytest.raises(ValidationError, match="remediation"):
        services.set_status(requirements[0], S.DEVIATION, user=cast["agreement"], remediation="Ny rutine")
    services.set_status(
        requirements[0], S.DEVIATION, user=cast["agreement"], remediation="Ny rutine", due_on=date(2026, 8, 1)
    )
    requirements[0].refresh_from_db()
    assert (requirements[0].remediation, requirements[0].remediation_due_on) == ("Ny rutine", date(2026, 8, 1))


def test_not_applicable_needs_a_reason(cast, requirements):
    with pytest.raises(ValidationError, match="why"):
        services.set_status(requirements[0], S.NOT_APPLICABLE, user=cast["agreement"], reason="  ")
    services.set_status(requirements[0], S.NOT_APPLICABLE, user=cast["agreement"], reason="Ingen stordatamaskin")
    assert Requirement.objects.get(pk=requirements[0].pk).not_applicable_reason == "Ingen stordatamaskin"


def test_the_vendor_moves_to_ready_but_cannot_verify(rep, requirements):
    requirement = requirements[0]
    services.set_status(requirement, S.READY, user=rep)
    with pytest.raises(PermissionDenied):
        services.set_status(requirement, S.VERIFIED, user=rep)
    requirement.refresh_from_db()
    assert requirement.status == S.READY


def test_another_contracts_representative_cannot_touch_it(other_rep, requirements):
    with pytest.raises(PermissionDenied):
        services.set_status(requirements[0], S.IN_PROGRESS, user=other_rep)
    with pytest.raises(PermissionDenied):
        services.add_comment(requirements[0], "Hei", user=other_rep)
    assert not RequirementComment.objects.exists()


def test_bulk_change_needs_a_comment_and_is_all_or_nothing(cast, requirements):
    user = cast["agreement"]
    with pytest.raises(ValidationError, match="needs a comment"):
        services.bulk_set_status(requirements, S.IN_PROGRESS, user=user, comment=" ")
    services.set_status(requirements[2], S.NOT_APPLICABLE, user=user, reason="Utgår")
    with pytest.raises(ValidationError, match="Requirement 1.10"):
        services.bulk_set_status(requirements, S.IN_PROGRESS, user=user, comment="Oppstart")
    assert set(Requirement.objects.values_list("status", flat=True)) == {S.NOT_STARTED, S.NOT_APPLICABLE}
    assert services.bulk_set_status(requirements[:2], S.IN_PROGRESS, user=user, comment="Oppstart") == 2
    assert RequirementComment.objects.filter(text="Oppstart").count() == 2


def test_evidence_by_link_and_by_case_number(cast, rep, requirements):
    from kompass.cases import services as cases
    from kompass.core.models import Service

    link = services.add_evidence(requirements[0], user=rep, kind="link", url="https://docs.example/rutine")
    assert link.reference == "https://docs.example/rutine"
    requester = cast["requester"]
    case = cases.create_case(
        requester=requester,
        service=Service.objects.create(name="Drift"),
        title="Sikkerhetskopi feilet",
        origin=cases.ChangeOrigin.by_user(requester),
    )
    am = cast["agreement"]
    evidence = services.add_evidence(requirements[0], user=am, kind="case", case_reference=f" {case.number.lower()} ")
    assert (evidence.case_reference, evidence.title) == (case.number, str(case))
    with pytest.raises(ValidationError, match="not a case number"):
        services.add_evidence(requirements[0], user=am, kind="case", case_reference="7; drop")
    with pytest.raises(ValidationError, match="No case with the number KOM-1999-000001"):
        services.add_evidence(requirements[0], user=am, kind="case", case_reference="KOM-1999-000001")
    with pytest.raises(ValidationError, match="No case with the number"):  # vendors see no cases
        services.add_evidence(requirements[0], user=rep, kind="case", case_reference=case.number)
    assert Evidence.objects.count() == 2


def test_other_representatives_cannot_add_evidence(other_rep, requirements):
    with pytest.raises(PermissionDenied):
        services.add_evidence(requirements[0], user=other_rep, kind="link", url="https://x.example/")
    assert not Evidence.objects.exists()


def test_progress_counts_by_status_milestone_and_chapter(cast, contract, requirements):
    services.set_status(requirements[0], S.IN_PROGRESS, user=cast["agreement"])
    Requirement.objects.create(contract=contract, requirement_id="2.1", chapter="2 Sikkerhet", text="x", position=9)
    Requirement.objects.create(contract=contract, requirement_id="2.2", text="x", withdrawn=True)
    result = services.progress(contract)
    assert result.total == 4
    assert result.by_status[S.NOT_STARTED] == 3 and result.by_status[S.IN_PROGRESS] == 1
    assert [(name, counts["total"]) for name, counts in result.by_milestone] == [
        ("Driftsovertakelse", 3),
        ("Etableringsperiodens slutt", 0),
        ("No milestone", 1),
    ]
    assert [(name, counts["total"]) for name, counts in result.by_chapter] == [("1 Drift", 3), ("2 Sikkerhet", 1)]


def test_overdue_lists_late_requirements_and_late_remediations(cast, requirements):
    services.set_status(
        requirements[1], S.DEVIATION, user=cast["agreement"], remediation="Plan", due_on=date(2026, 6, 1)
    )
    late = services.overdue(requirements[0].contract, today=date(2026, 5, 15))
    assert [r.requirement_id for r in late] == ["1.1", "1.10"]
    late = services.overdue(requirements[0].contract, today=date(2026, 6, 2))
    assert [r.requirement_id for r in late] == ["1.1", "1.2", "1.10"]
