"""The scorecard shows stored figures with the time they were computed; a change elsewhere makes the ``default``
worker compute them again (one job per contract and month), while this app's own inputs show at once."""

import datetime as dt

import pytest
from django.utils import timezone

from kompass.core import durable
from kompass.reports import services
from kompass.reports.models import ScorecardFigures
from kompass.reports.tests.conftest import JUNE

pytestmark = pytest.mark.django_db

URL = "/reports/?contract={}&month=2026-06"


def _page(client, contract) -> str:
    response = client.get(URL.format(contract.pk))
    assert response.status_code == 200
    return response.content.decode()


def _make_one_late(cases) -> None:
    """An audited change that is not this app's input: a case resolved within 4 hours was resolved after 9."""
    case = next(c for c in cases if (c.resolved_at - c.created) <= dt.timedelta(hours=4))
    case.resolved_at = case.created + dt.timedelta(hours=9)
    case.save()


def _no_computing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the page computed the month")

    monkeypatch.setattr(services, "month_figures", refuse)


@pytest.fixture(autouse=True)
def organisation(db):
    from kompass.core.models import Organisation

    return Organisation.current()  # made (and audited) by the first page otherwise


@pytest.fixture
def kicks(monkeypatch):
    asked = []
    monkeypatch.setattr(durable, "kick", lambda model: asked.append(model))
    return asked


def test_the_first_look_computes_and_stores_the_figures(client, cast, worked_example, contract, kicks):
    client.force_login(cast["agreement"])
    page = _page(client, contract)
    assert "90,0 %" in page and "Tallene er fra" in page and "beregnes på nytt" not in page
    row = ScorecardFigures.objects.get(contract=contract, month=JUNE)
    assert row.state == ScorecardFigures.State.DONE and row.watermark == services.audit_watermark()
    assert [r["kind"] for r in row.data["rows"]] == ["availability", "resolution"]
    assert len(row.data["trend"]) == 12 and kicks == []


def test_a_change_elsewhere_shows_the_stored_figures_and_asks_the_worker_once(
    client, cast, worked_example, contract, monkeypatch, kicks
):
    client.force_login(cast["agreement"])
    _page(client, contract)
    _make_one_late(worked_example)
    _no_computing(monkeypatch)  # from here on the page must not compute

    page = _page(client, contract)
    assert "90,0 %" in page  # the stored figures, not yet the new 85,0 %
    assert "beregnes på nytt" in page
    row = ScorecardFigures.objects.get(contract=contract, month=JUNE)
    assert row.state == ScorecardFigures.State.PENDING and kicks == [ScorecardFigures]

    _page(client, contract)
    _page(client, contract)
    assert kicks == [ScorecardFigures]  # asked once: the job is pending already
    assert ScorecardFigures.objects.filter(contract=contract).count() == 1


def test_the_worker_computes_them_again_and_the_page_shows_the_new_figures(
    client, cast, worked_example, contract, monkeypatch, kicks
):
    client.force_login(cast["agreement"])
    _page(client, contract)
    _make_one_late(worked_example)
    assert "90,0 %" in _page(client, contract)

    durable.autodiscover()
    assert durable.PROCESSORS["reports.scorecardfigures"].run("worker").done == 1
    row = ScorecardFigures.objects.get(contract=contract, month=JUNE)
    assert row.state == ScorecardFigures.State.DONE and row.watermark == services.audit_watermark()

    _no_computing(monkeypatch)
    page = _page(client, contract)
    assert "85,0 %" in page and "beregnes på nytt" not in page  # 17 of 20 within 4 h now


def test_an_input_of_this_app_is_shown_at_once(client, cast, worked_example, contract, kicks):
    client.force_login(cast["agreement"])
    assert "90,0 %" in _page(client, contract)
    late = next(c for c in worked_example if (c.resolved_at - c.created) > dt.timedelta(hours=4))
    services.record_exclusion(
        contract, kind="customer", case_number=late.number, reason="Ventet på kunden", user=cast["agreement"]
    )
    row = ScorecardFigures.objects.get(contract=contract, month=JUNE)
    assert row.inputs_generation > row.computed_generation
    page = _page(client, contract)
    assert "94,7 %" in page and "beregnes på nytt" not in page  # 18 of 19, computed in the request
    assert kicks == []


def test_a_store_never_replaces_newer_figures(worked_example, contract):
    row = services.refresh_scorecard(contract, JUNE)
    ScorecardFigures.objects.filter(pk=row.pk).update(watermark=row.watermark + 1000, data={"rows": "newer"})
    services.refresh_scorecard(contract, JUNE)  # computed from an older watermark than the one stored
    assert ScorecardFigures.objects.get(pk=row.pk).data == {"rows": "newer"}


def test_an_open_month_is_computed_again_when_old_a_closed_one_is_not(worked_example, contract, kicks):
    row = services.refresh_scorecard(contract, JUNE)  # computed now, after June ended
    watermark = services.audit_watermark()
    long_after = timezone.now() + dt.timedelta(days=30)
    assert not services._stale(row, watermark, long_after)
    row.computed_at = services.month_bounds(JUNE)[0] + dt.timedelta(days=3)  # computed while June was open
    assert services._stale(row, watermark, row.computed_at + dt.timedelta(seconds=services.FIGURES_MAX_AGE_SECONDS + 1))
    assert not services._stale(row, watermark, row.computed_at + dt.timedelta(seconds=60))


def test_the_schedule_asks_for_this_months_figures_and_for_stale_ones(worked_example, contract, kicks, settings):
    this_month = services.first_of_month(timezone.localdate())
    assert services.refresh_open_scorecards() == 1  # this month's of the contract (its levels are valid)
    assert ScorecardFigures.objects.get(contract=contract, month=this_month).state == ScorecardFigures.State.PENDING
    assert services.refresh_open_scorecards() == 0  # pending already: not asked again
    durable.autodiscover()
    assert durable.PROCESSORS["reports.scorecardfigures"].run("worker").done == 1
    assert ScorecardFigures.objects.get(contract=contract, month=this_month).data["rows"]
    assert services.refresh_open_scorecards() == 0  # fresh


def test_a_worker_that_fails_leaves_the_stored_figures_shown(
    client, cast, worked_example, contract, monkeypatch, kicks
):
    client.force_login(cast["agreement"])
    _page(client, contract)
    _make_one_late(worked_example)
    _page(client, contract)
    _no_computing(monkeypatch)
    durable.autodiscover()
    result = durable.PROCESSORS["reports.scorecardfigures"].run("worker")
    assert result.failed == 1
    row = ScorecardFigures.objects.get(contract=contract, month=JUNE)
    assert row.state == ScorecardFigures.State.PENDING and "computed the month" in row.last_error
    page = _page(client, contract)
    assert "90,0 %" in page and "beregnes på nytt" in page  # still the stored ones, still being computed


def test_the_agency_page_reads_the_stored_figures_of_the_agencies_served(
    client, cast, worked_example, contract, agencies, monkeypatch, kicks
):
    services.refresh_scorecard(contract, JUNE)
    _no_computing(monkeypatch)
    client.force_login(cast["kam"])  # serves alfa and gamma
    response = client.get("/reports/agencies/?month=2026-06")
    page = response.content.decode()
    assert response.status_code == 200 and "90,0" in page and "Tallene er fra" in page  # alfa's 18 of 20
    assert agencies["alfa"].name in page and agencies["beta"].name not in page


def test_figures_stored_in_an_older_shape_are_computed_again(client, cast, worked_example, contract, kicks):
    row = services.refresh_scorecard(contract, JUNE)
    ScorecardFigures.objects.filter(pk=row.pk).update(data={**row.data, "format": 1, "rows": []})
    client.force_login(cast["agreement"])
    assert "90,0 %" in _page(client, contract)
    assert ScorecardFigures.objects.get(pk=row.pk).data["format"] == services.SCORECARD_FORMAT
