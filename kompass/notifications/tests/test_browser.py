"""The inbox and the ledger in the browser (every page axe-checked)."""

import pytest
from playwright.sync_api import expect

from kompass.core.durable import process
from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.durable import deliver
from kompass.notifications.models import Delivery
from kompass.testing.browser import check_a11y, log_in, navigate, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _notify(user, key):
    notifications.send(
        event=TEST_EVENT, recipients=[user], template=TEST_TEMPLATE, key=key, context={"note": key, "url": "/"}
    )
    process(Delivery, deliver, "browser-test")


def test_the_requester_reads_their_notifications(page, live_server, cast):
    _notify(cast["requester"], "first")
    _notify(cast["requester"], "second")
    log_in(page, live_server.url, cast["requester"].email, PASSWORD)
    badge = page.locator("nav.kp-nav a[href='/notifications/'] .kp-badge")
    expect(badge).to_contain_text("2")
    navigate(page, lambda: page.locator("nav.kp-nav a[href='/notifications/']").click())
    expect(page.locator(".kp-inbox__item--unread")).to_have_count(2)
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Marker som lest").first.click()  # htmx: the list is replaced in place
    expect(page.locator(".kp-inbox__item--unread")).to_have_count(1)
    assert page.evaluate("window.__sameDocument === true")
    check_a11y(page)
    page.get_by_role("button", name="Marker alle som lest").click()
    expect(page.locator(".kp-inbox__item--unread")).to_have_count(0)
    check_a11y(page)
    assert notifications.unread_count(cast["requester"]) == 0


def test_the_administrator_uses_the_ledger(page, live_server, cast):
    _notify(cast["requester"], "ledger")
    dead = Delivery.objects.get(channel="email")
    Delivery.objects.filter(pk=dead.pk).update(state=Delivery.State.DEAD, last_error="SMTPServerDisconnected: x")
    log_in(page, live_server.url, cast["admin"].email, PASSWORD)
    navigate(page, lambda: page.locator("nav.kp-nav a[href='/notifications/ledger/']").click())
    visit(page, f"{live_server.url}/notifications/ledger/?state=dead")
    navigate(page, lambda: page.locator(f"a[href='/notifications/ledger/{dead.pk}/']").click())
    expect(page.locator("main")).to_contain_text("SMTPServerDisconnected")
    navigate(page, lambda: page.get_by_role("button", name="Prøv igjen").click())
    dead.refresh_from_db()
    assert dead.state == Delivery.State.PENDING


def test_my_settings_with_a_mandatory_event_is_accessible(page, live_server, cast):
    log_in(page, live_server.url, cast["requester"].email, PASSWORD)
    visit(page, f"{live_server.url}/settings/")
    expect(page.locator("input[name='notify__notifications.test__email']")).to_be_disabled()
    expect(page.locator("main")).to_contain_text("Sendes alltid.")
