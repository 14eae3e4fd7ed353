"""The workspace in the browser, axe-checked: an agent searches from the keyboard (/), selects two cases (j, x),
assigns them in bulk (a) and reads the report; the shortcut help (?) opens as a dialog."""

import pytest
from playwright.sync_api import expect

from kompass.cases import services
from kompass.cases.models import Case
from kompass.cases.services import ChangeOrigin
from kompass.testing.browser import check_a11y, log_in, navigate, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_keyboard_and_bulk_assign(page, live_server, cast, service):
    from kompass.core.models import Organisation

    Organisation.current()
    desk = ChangeOrigin.by_user(cast["desk"])
    for title in ("Skriveren på kontoret", "Tilgang til fagsystemet", "Skrivere i andre etasje"):
        services.create_case(requester=cast["requester"], service=service, title=title, origin=desk)
    base = live_server.url
    log_in(page, base, cast["desk"].email, PASSWORD)
    visit(page, f"{base}/cases/")

    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()
    page.keyboard.type("skriv")
    expect(page.get_by_test_id("result-count")).to_have_text("2 saker")
    check_a11y(page)

    # The search's own address (htmx pushed it), loaded afresh: no late swap can replace the rows being selected.
    visit(page, f"{base}/cases/?q=skriv")
    for key in ("j", "x", "j", "x"):
        page.keyboard.press(key)
    expect(page.locator("table[data-queue] input[type=checkbox]:checked")).to_have_count(2)
    page.keyboard.press("a")
    expect(page.locator("#bulk_assignee")).to_be_focused()
    page.locator("#bulk_assignee").select_option(str(cast["desk"].pk))
    page.locator("#bulk_team").fill("Drift")
    navigate(page, lambda: page.locator("#bulk button[type=submit]").click())
    expect(page.get_by_test_id("bulk-done")).to_contain_text("2 saker endret")
    assert sorted(Case.objects.filter(team="Drift").values_list("title", flat=True)) == [
        "Skrivere i andre etasje",
        "Skriveren på kontoret",
    ]

    visit(page, f"{base}/cases/")
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts-help")).to_be_visible()
    check_a11y(page)
