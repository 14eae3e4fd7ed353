"""In the browser, under the app's real CSP, axe on every page: the agreement manager opens the scorecard, drills
into a missed level, records an exclusion and regenerates the report; the vendor's representative disputes a line."""

import pytest
from playwright.sync_api import expect

from kompass.core import durable
from kompass.reports import report, services
from kompass.reports.models import Dispute, Exclusion, MonthlyReport
from kompass.reports.tests.conftest import JUNE
from kompass.testing.browser import log_in, navigate, submit_main_form, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_scorecard_drill_exclusion_regenerate_and_a_vendor_dispute(
    csp_page, live_server, cast, rep, worked_example, contract
):
    page, base = csp_page, live_server.url
    statement = services.build_statement(contract, JUNE)
    report.generate(contract, JUNE, user=cast["agreement"])

    log_in(page, base, cast["agreement"].email, PASSWORD)
    visit(page, f"{base}/reports/?contract={contract.pk}&month=2026-06")
    levels = page.locator("#levels")
    expect(levels).to_contain_text("99,167 %")
    expect(levels).to_contain_text("Brutt")
    expect(page.locator("#trend-chart")).to_have_attribute("data-rendered", "1")  # Chart.js under the CSP
    navigate(page, lambda: levels.get_by_role("link", name="90,0 %").click())
    drill = page.locator("#drill")
    expect(drill.locator("tbody tr")).to_have_count(2)
    navigate(page, lambda: drill.get_by_role("link", name="Registrer et unntak").first.click())
    page.locator("select[name=kind]").select_option("customer")
    page.locator("textarea[name=reason]").fill("Saken ventet på kundens leverandør")
    navigate(page, lambda: page.locator("main form button[type=submit]").last.click())
    expect(page.locator("#exclusions")).to_contain_text("Saken ventet på kundens leverandør")
    assert Exclusion.objects.get().decided_by == cast["agreement"]

    visit(page, f"{base}/reports/?contract={contract.pk}&month=2026-06")
    navigate(page, lambda: page.locator("#generate").click())  # the worker generates it, not the web process
    expect(page.locator("#report-jobs")).to_contain_text("genereres")
    assert MonthlyReport.objects.filter(contract=contract, month=JUNE).count() == 1
    durable.autodiscover()
    assert durable.PROCESSORS["reports.reportjob"].run("worker").done == 1
    visit(page, f"{base}/reports/?contract={contract.pk}&month=2026-06")
    navigate(page, lambda: page.get_by_role("link", name="v2").click())
    expect(page.locator("#report-version")).to_have_text("2")
    expect(page.locator("#report-changes")).not_to_contain_text("Ingenting")
    assert MonthlyReport.objects.filter(contract=contract, month=JUNE).count() == 2

    page.context.clear_cookies()
    log_in(page, base, rep.email, PASSWORD)
    visit(page, f"{base}{statement.get_absolute_url()}")
    line = statement.lines.get(key__startswith="availability")
    page.locator(f"#dispute-{line.pk}").fill("Avbruddet skyldtes kundens strømbrudd")
    navigate(page, lambda: page.locator(f"#line-{line.pk}").get_by_role("button", name="Bestrid").click())
    expect(page.locator(f"#line-{line.pk}")).to_contain_text("Avbruddet skyldtes kundens strømbrudd")
    assert Dispute.objects.get().party == "vendor"


def test_the_agreement_manager_edits_the_levels_of_a_version(csp_page, live_server, cast, contract, version, service):
    """The level editor, axe-checked on every page it shows (the version, a new level, an error, the tiers)."""
    page, base = csp_page, live_server.url
    log_in(page, base, cast["agreement"].email, PASSWORD)
    visit(page, f"{base}/reports/levels/?contract={contract.pk}")
    navigate(page, lambda: page.get_by_role("link", name=version.name).click())
    navigate(page, lambda: page.locator("#add-case-level").click())
    page.locator("select[name=service]").select_option(str(service.pk))
    page.locator("input[name=priority]").fill("1")  # P1 is there already: refused with a clear error
    page.locator("input[name=resolution_hours]").fill("8")
    page.locator("input[name=required_pct]").fill("90")
    submit_main_form(page)
    expect(page.locator("main")).to_contain_text("allerede et nivå for P1")
    page.locator("input[name=priority]").fill("2")
    submit_main_form(page)
    expect(page.locator("#case-levels")).to_contain_text("P2")
    navigate(page, lambda: page.get_by_role("link", name=f"Endre tilgjengeligheten for {service.name}").click())
    page.locator("textarea[name=tiers_text]").fill("99,5 5\n98 20")
    submit_main_form(page)
    expect(page.locator("#availability-levels")).to_contain_text("< 98 % → 20 %")
    navigate(page, lambda: page.locator("#copy-version").click())
