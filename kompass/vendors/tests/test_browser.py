"""The vendors app in the browser (fixtures from the test kit; every page axe-checked)."""

import pytest
from playwright.sync_api import expect

from kompass.testing.browser import check_a11y, log_in, navigate
from kompass.testing.cast import PASSWORD
from kompass.vendors.models import VendorConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_administrator_tests_the_vendor_connection(page, live_server, cast, snowsim_instance, monkeypatch):
    """The connection page's button checks the simulator over HTTPS with the vendor's CA, in place (htmx)."""
    url, ca = snowsim_instance
    monkeypatch.setenv("BROWSER_SNOW_SECRET", "kompass")
    connection = VendorConnection.objects.create(
        name="Driftsleverandør",
        base_url=url,
        ca_bundle=ca,
        username="kompass.integration",
        secret_env="BROWSER_SNOW_SECRET",
    )
    log_in(page, live_server.url, cast["admin"].email, PASSWORD)
    navigate(page, lambda: page.locator("nav.kp-nav a[href='/vendors/']").click())
    navigate(page, lambda: page.get_by_role("link", name="Driftsleverandør").click())
    page.evaluate("window.__sameDocument = true")
    page.locator("main form[hx-post] button[type=submit]").click()
    result = page.get_by_test_id("check-result")
    expect(result).to_be_visible()
    expect(result).to_contain_text("ms")
    assert page.evaluate("window.__sameDocument === true")
    check_a11y(page)
    connection.refresh_from_db()
    assert connection.last_check_ok is True


def test_an_agent_reads_the_integration_health_and_a_link(page, live_server, cast, agencies):
    """The e-bonding pages an agent uses: the link list, a link with its outbox, dead letters, health (axe)."""
    from kompass.cases import services
    from kompass.cases.services import ChangeOrigin
    from kompass.core.models import Service
    from kompass.vendors.models import VendorLink

    connection = VendorConnection.objects.create(
        name="Driftsleverandør", base_url="https://127.0.0.1:9", username="k", secret_env="BROWSER_SNOW_SECRET"
    )
    requester = cast["requester"]
    case = services.create_case(
        requester=requester,
        service=Service.objects.get(name="Brukerstøtte"),
        title="Nettet er nede",
        origin=ChangeOrigin.by_user(requester),
    )
    link = VendorLink.objects.create(case=case, connection=connection, correlation_id=case.number)
    link.outbox.create(kind="comment", fields={"text": "x"}, state="dead", last_error="HTTP 503 (text/html page)")
    log_in(page, live_server.url, cast["desk"].email, PASSWORD)
    navigate(page, lambda: page.locator("nav.kp-nav a[href='/vendors/links/']").click())
    check_a11y(page)
    navigate(page, lambda: page.get_by_role("link", name=case.number).click())
    expect(page.get_by_role("button", name="Send mislykkede meldinger på nytt")).to_be_visible()
    check_a11y(page)
    page.goto(f"{live_server.url}/vendors/dead-letters/")
    expect(page.locator("main")).to_contain_text("HTTP 503")
    check_a11y(page)
    page.goto(f"{live_server.url}/vendors/health/")
    expect(page.locator("main")).to_contain_text("Meldinger som ikke kom fram")
    check_a11y(page)
    # The case page's slot: the link, its dead letter and the retry, for the agent (axe on the whole page).
    page.goto(f"{live_server.url}{case.get_absolute_url()}")
    panel = page.get_by_test_id("vendor-link-panel")
    expect(panel).to_contain_text("HTTP 503")
    expect(panel.get_by_role("button", name="Send mislykkede meldinger på nytt")).to_be_visible()
    check_a11y(page)


def test_the_connection_form_shows_only_the_chosen_transports_fields(page, live_server, cast):
    """The script hides the other transport's fieldset; an e-mail connection is made with its address only."""
    log_in(page, live_server.url, cast["admin"].email, PASSWORD)
    page.goto(f"{live_server.url}/vendors/new/")
    servicenow, email = page.get_by_test_id("transport-servicenow"), page.get_by_test_id("transport-email")
    expect(servicenow).to_be_visible()
    expect(email).to_be_hidden()
    check_a11y(page)
    page.locator("select[name=kind]").select_option("email")
    expect(servicenow).to_be_hidden()
    expect(email).to_be_visible()
    page.locator("input[name=name]").fill("Epostleverandør")
    page.locator("input[name=service_desk_email]").fill("servicedesk@vendor.example")
    navigate(page, lambda: page.locator("main form button[type=submit]").click())
    connection = VendorConnection.objects.get(name="Epostleverandør")
    assert connection.kind == "email" and connection.base_url == ""
