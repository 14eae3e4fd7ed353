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
    page.locator("main form button[type=submit]").click()
    result = page.get_by_test_id("check-result")
    expect(result).to_be_visible()
    expect(result).to_contain_text("ms")
    assert page.evaluate("window.__sameDocument === true")
    check_a11y(page)
    connection.refresh_from_db()
    assert connection.last_check_ok is True
