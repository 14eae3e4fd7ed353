"""The pages show the computed figures and drill down to the cases behind them."""

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
