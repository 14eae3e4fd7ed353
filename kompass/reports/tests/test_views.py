"""The pages show the computed figures and drill down to the cases behind them."""

import datetime as dt

import pytest

from kompass.reports.models import Exclusion
from kompass.reports.tests.conftest import JUNE

pytestmark = pytest.mark.django_db


def test_scorecard_shows_the_levels_and_drills_into_the_missed_cases(client, cast, worked_example, contract, service):
    client.force_login(cast["agreement"])
    page = client.get(f"/reports/?contract={contract.pk}&month=2026-06").content.decode()
    assert "99,167 %" in page and "90,0 %" in page and "28000,00" in page
    assert 'id="trend-chart"' in page and "trend-chart-data" in page  # the chart, and its table beside it
    late = sorted(c.number for c in worked_example if (c.resolved_at - c.created).total_seconds() > 4 * 3600)
    drill = client.get(f"/reports/drill/?contract={contract.pk}&month=2026-06&service={service.pk}&priority=1")
    text = drill.content.decode()
    # each case: its link, and the exclusion link (in its URL and its label)
    assert all(number in text for number in late) and text.count("KOM-") == 3 * len(late)
    response = client.post(
        "/reports/exclusions/new/",
        {"contract": contract.pk, "kind": "customer", "case_number": late[0], "reason": "Ventet på kunden"},
    )
    assert response.status_code == 302
    assert Exclusion.objects.get().decided_by == cast["agreement"]
    page = client.get(f"/reports/?contract={contract.pk}&month=2026-06").content.decode()
    assert "94,7 %" in page  # 18 of 19: the cached figures were not reused after the exclusion
    assert client.get("/reports/?month=2026-13").status_code == 404  # a month that is not one


def test_the_agency_view_shows_only_the_agencies_served(client, cast, worked_example, agencies):
    client.force_login(cast["kam"])  # serves alfa and gamma
    page = client.get("/reports/agencies/?month=2026-06").content.decode()
    assert agencies["alfa"].name in page and agencies["beta"].name not in page
    assert "90,0" in page  # alfa's 18 of 20


def test_a_vendor_representative_disputes_a_line_on_the_page(client, rep, worked_example, contract):
    from kompass.reports import services

    statement = services.build_statement(contract, JUNE)
    line = statement.lines.get(key__startswith="resolution")
    client.force_login(rep)
    assert client.post(f"/reports/lines/{line.pk}/dispute/", {"text": "To saker ventet på kunden"}).status_code == 302
    assert client.post(f"/reports/lines/{line.pk}/dispute/", {"text": "Igjen"}).status_code == 400
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "To saker ventet på kunden" in page


def test_the_agreement_manager_edits_a_versions_levels_on_the_pages(client, cast, contract, version, service):
    from decimal import Decimal

    from kompass.reports.models import AvailabilityLevel, CaseLevel

    client.force_login(cast["agreement"])
    page = client.get(version.get_absolute_url()).content.decode()
    assert 'id="add-case-level"' in page and 'id="add-availability-level"' in page and 'id="copy-version"' in page
    new = f"/reports/levels/{version.pk}/case-levels/new/"
    level = {
        "service": service.pk,
        "priority": 2,
        "response_hours": "1",
        "resolution_hours": "8",
        "service_hours": "office",
        "required_pct": "90",
        "credit_pct": "1",
    }
    assert client.post(new, level).status_code == 302
    made = CaseLevel.objects.get(version=version, priority=2)
    assert (made.resolution_hours, made.service_hours) == (Decimal(8), "office")
    # the same service and priority again, and a target that is no percentage: clear errors, nothing stored
    again = client.post(new, level)
    assert again.status_code == 400 and "allerede" in again.content.decode()
    wrong = client.post(new, {**level, "priority": 3, "required_pct": "120"})
    assert wrong.status_code == 400 and CaseLevel.objects.filter(version=version).count() == 2
    assert client.post(f"/reports/case-levels/{made.pk}/edit/", {**level, "resolution_hours": "6"}).status_code == 302
    made.refresh_from_db()
    assert made.resolution_hours == Decimal(6)

    availability = AvailabilityLevel.objects.get(version=version)
    edit = f"/reports/availability/{availability.pk}/edit/"
    assert "99.5 5" in client.get(edit).content.decode()  # the tiers as text, one a line
    fields = {"service": service.pk, "target_pct": "99.7", "window": "month", "service_hours": "24x7"}
    bad = client.post(edit, {**fields, "tiers_text": "99,5 5\n99 ti"})
    assert bad.status_code == 400 and "tall" in bad.content.decode()
    assert client.post(edit, {**fields, "tiers_text": "99,5 % 5\n\n98 20"}).status_code == 302
    availability.refresh_from_db()
    assert availability.tiers == [{"below": "99.5", "credit": "5"}, {"below": "98", "credit": "20"}]
    assert availability.target_pct == Decimal("99.7")

    assert client.post(f"/reports/case-levels/{made.pk}/delete/").status_code == 302
    assert not CaseLevel.objects.filter(pk=made.pk).exists()


def test_a_new_version_is_copied_from_the_old_one_and_may_not_overlap(client, cast, contract, version):
    from kompass.reports.models import LevelVersion

    client.force_login(cast["agreement"])
    copy = f"/reports/levels/{version.pk}/copy/"
    overlapping = client.post(copy, {"name": "Bilag 5 (2027)", "valid_from": "2026-12-01"})
    assert overlapping.status_code == 400 and "overlapper" in overlapping.content.decode()
    version.valid_to = dt.date(2026, 12, 31)
    version.save()
    assert 'value="2027-01-01"' in client.get(copy).content.decode()  # starts the day after the old one ends
    assert client.post(copy, {"name": "Bilag 5 (2027)", "valid_from": "2027-01-01"}).status_code == 302
    new = LevelVersion.objects.get(name="Bilag 5 (2027)")
    assert new.contract == contract and new.valid_to is None and new.monthly_cap_pct == version.monthly_cap_pct
    assert [(lv.service_id, lv.priority) for lv in new.case_levels.all()] == [
        (lv.service_id, lv.priority) for lv in version.case_levels.all()
    ]
    assert new.availability_levels.get().tiers == version.availability_levels.get().tiers
    listing = client.get(f"/reports/levels/?contract={contract.pk}").content.decode()
    assert "Bilag 5 (2027)" in listing and "<caption>Driftsavtale</caption>" in listing
