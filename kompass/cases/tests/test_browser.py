"""The cases story in the browser, every page axe-checked: a requester registers a case in the portal, an agent
replies and resolves it, the requester answers "solved" by the e-mail's link (no login) and the case is closed."""

import pytest
from django.test import Client

from kompass.cases.models import Case
from kompass.testing.browser import check_a11y, log_in, navigate, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_portal_to_resolution_link(browser, page, live_server, cast, service, sent):
    from kompass.core.models import Organisation

    Organisation.current()
    base = live_server.url

    # The requester registers a case in the portal.
    log_in(page, base, cast["requester"].email, PASSWORD)
    navigate(page, lambda: page.locator("nav.kp-nav a[href='/cases/portal/']").click())
    navigate(page, lambda: page.locator("main a[href='/cases/new/']").click())
    page.locator("#id_service").select_option(str(service.pk))
    page.locator("#id_title").fill("Skriveren på kontoret skriver ikke ut")
    page.locator("#id_description").fill("Det kommer en feilmelding om papirstopp.")
    navigate(page, lambda: page.locator("main form button[type=submit]").click())
    case = Case.objects.get()
    assert page.get_by_test_id("case-state").inner_text().strip() == "Ny"

    # An agent replies and resolves it.
    agent = browser.new_context(bypass_csp=True, locale="nb-NO")
    agent_page = agent.new_page()
    try:
        log_in(agent_page, base, cast["desk"].email, PASSWORD)
        visit(agent_page, f"{base}/cases/")
        navigate(agent_page, lambda: agent_page.get_by_role("link", name=case.number).click())
        agent_page.locator("main form[action$='/reply/'] textarea[name=text]").fill("Vi sender en tekniker.")
        navigate(agent_page, lambda: agent_page.locator("main form[action$='/reply/'] button[type=submit]").click())
        agent_page.locator("#id_resolution").fill("Papirstoppen er fjernet.")
        navigate(agent_page, lambda: agent_page.locator("main button[name=state][value=resolved]").click())
        assert agent_page.get_by_test_id("case-state").inner_text().strip() == "Løst"
    finally:
        agent.close()

    # The resolved e-mail carries the one-click link; it needs no login and works once.
    mail = [c for c in sent if c["event"] == "cases.resolved"][-1]
    assert mail["recipients"] == [cast["requester"]] and "Papirstoppen" in mail["context"]["resolution"]
    link = mail["context"]["links"]["solved"]
    anonymous = browser.new_context(bypass_csp=True, locale="nb-NO")
    link_page = anonymous.new_page()
    try:
        visit(link_page, f"{base}{link}")
        navigate(link_page, lambda: link_page.locator("main form button[type=submit]").click())
        check_a11y(link_page)
        visit(link_page, f"{base}{link}", expect_status=410)
    finally:
        anonymous.close()
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    assert Client().post(link).status_code == 410

    # The requester sees the closed case and rates it.
    visit(page, f"{base}/cases/{case.pk}/")
    page.locator("main input[name=rating][value='5']").check()
    navigate(page, lambda: page.locator("main form[action$='/rate/'] button[type=submit]").click())
    case.refresh_from_db()
    assert case.rating == 5
