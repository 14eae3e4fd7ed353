"""The portfolio in the browser, under the app's real CSP: request → approve → the map and its table; axe everywhere."""

import pytest
from playwright.sync_api import expect

from kompass.core.models import RoleAssignment, System, User
from kompass.core.roles import Role
from kompass.portfolio.models import DataSet, ExternalParty, Integration
from kompass.testing.browser import check_a11y, log_in, navigate, submit_main_form, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_requests_data_owner_approves_map_and_table_show_it(csp_page, live_server, cast, agencies):
    page = csp_page
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    beta_owner = User.objects.create_user("beta.eier@test.example", PASSWORD, full_name="Berit Beta")
    RoleAssignment.objects.create(user=beta_owner, role=Role.SYSTEM_OWNER, agency=agencies["beta"])
    sak = System.objects.create(name="Saksbehandling", agency=agencies["alfa"], system_owner=cast["owner"])
    System.objects.create(name="Personalsystem", agency=agencies["beta"], system_owner=beta_owner)
    base = live_server.url

    # The system owner of alfa requests the integration from beta's system.
    log_in(page, base, cast["owner"].email, PASSWORD)
    visit(page, f"{base}/portfolio/")
    navigate(page, lambda: page.get_by_role("link", name="Saksbehandling").click())
    navigate(page, lambda: page.get_by_role("link", name="Bestill en integrasjon").click())
    page.get_by_label("Navn").fill("Ansatte til saksbehandling")
    page.get_by_label("tilbydersystem", exact=False).first.select_option(label="Personalsystem (BETA)")
    expect(page.locator("#id_consumer_system")).to_have_value(str(sak.pk))
    submit_main_form(page)
    expect(page.locator("main")).to_contain_text("Bestilt")

    # The system owner's other pages, each axe-checked: editing the request, infrastructure, waves, and an
    # import of integrations up to its preview (core's mapping form, the diff and the apply button).
    requested = Integration.objects.get(name="Ansatte til saksbehandling")
    visit(page, f"{base}/portfolio/integrations/{requested.pk}/edit/")
    visit(page, f"{base}/portfolio/systems/{sak.pk}/infrastructure/new/")
    visit(page, f"{base}/portfolio/waves/")
    party = ExternalParty.objects.create(name="Folkeregisteret", kind=ExternalParty.Kind.NATIONAL_REGISTER)
    DataSet.objects.create(name="Personopplysninger", publisher_party=party, personal_data=True)
    visit(page, f"{base}/portfolio/parties/")
    navigate(page, lambda: page.get_by_role("link", name="Folkeregisteret").click())
    navigate(page, lambda: page.get_by_role("link", name="Personopplysninger").click())  # axe on both
    visit(page, f"{base}/portfolio/data-sets/")
    visit(page, f"{base}/portfolio/import/integrations/")
    sheet = b"Integrasjon;Fra system;Til system\nArkivuttrekk;Personalsystem;Saksbehandling\n"
    page.set_input_files("#id_file", files=[{"name": "integrasjoner.csv", "mimeType": "text/csv", "buffer": sheet}])
    submit_main_form(page)
    expect(page.get_by_test_id("import-added")).to_contain_text("Arkivuttrekk")

    # The data owner on the providing side approves it.
    page.context.clear_cookies()
    log_in(page, base, beta_owner.email, PASSWORD)
    visit(page, f"{base}/portfolio/integrations/")
    navigate(page, lambda: page.get_by_role("link", name="Ansatte til saksbehandling").click())
    page.get_by_label("Godkjenn").check()
    page.get_by_label("Begrunnelse").fill("Hjemmel og formål er i orden.")
    navigate(page, lambda: page.get_by_role("button", name="Registrer beslutningen").click())
    expect(page.locator("main dl")).to_contain_text("Godkjent")
    expect(page.locator("main")).to_contain_text("Hjemmel og formål er i orden.")

    # The map draws it (Cytoscape under the strict CSP) and its table holds the same facts.
    visit(page, f"{base}/portfolio/map/")
    expect(page.locator("#integration-map")).to_have_attribute("data-rendered", "3")  # two systems, one edge
    table = page.locator("section[aria-labelledby=map-table] table")
    expect(table).to_contain_text("Ansatte til saksbehandling")
    expect(table).to_contain_text("Personalsystem (BETA)")
    expect(table).to_contain_text("Saksbehandling (ALFA)")
    expect(table).to_contain_text("Godkjent")
    check_a11y(page)
    visit(page, f"{base}/portfolio/transformation/")
    assert violations == []
