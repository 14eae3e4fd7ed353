"""In the browser, under the app's real CSP, axe on every page: a contact answers by link on a phone; a key
account manager goes from the heat map to an agency, its cockpit, and closes an action."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from kompass.core.roles import Role
from kompass.surveys import services
from kompass.surveys.models import Response, ResultCell
from kompass.testing.browser import check_a11y, log_in, navigate, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_answer_by_link_on_a_phone_then_heat_map_cockpit_and_closing_an_action(
    csp_page, live_server, cast, agencies, template, today, issued
):
    page = csp_page
    base = live_server.url
    campaign = services.create_campaign(template, period=dt.date(2026, 2, 1))
    services.open_campaign(campaign)

    # A contact answers on a phone-sized screen, without signing in.
    page.set_viewport_size({"width": 375, "height": 740})
    visit(page, base + services.answer_url(issued[cast["it_contact"].email]))
    for question in template.questions.filter(kind="rating"):
        page.locator(f"input[name=q{question.pk}][value='4']").check()
    page.get_by_label("Kommentar (valgfritt)").first.fill("Stabilt nå.")
    page.get_by_label("Hva bør vi forbedre?").fill("Beskjed når saken er løst.")
    navigate(page, lambda: page.get_by_role("button", name="Send svaret").click())
    expect(page.locator("h1")).to_have_text("Takk for svaret")
    assert Response.objects.filter(respondent=None).count() == 1
    visit(page, page.url, expect_status=410)  # the link is spent
    expect(page.locator("h1")).to_have_text("Du har allerede svart")

    # Results for alfa over three months, and an action for the key account manager.
    question = template.questions.get(dimension="stability")
    for month, value in ((dt.date(2025, 12, 1), 4), (dt.date(2026, 1, 1), 2), (dt.date(2026, 2, 1), 3)):
        held = campaign if month == campaign.period else services.create_campaign(template, period=month)
        ResultCell.objects.create(
            agency=agencies["alfa"],
            role=Role.SYSTEM_OWNER,
            question=question,
            campaign=held,
            period=month,
            dimension="stability",
            n=6,
            total=6 * value,
            scale_min=1,
            scale_max=5,
            distribution={str(value): 6},
        )
    services.open_action(
        agency_id=agencies["alfa"].pk, owner=cast["kam"], title="Ring leverandøren", due_on=today - dt.timedelta(days=2)
    )

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, cast["kam"].email, PASSWORD)
    visit(page, f"{base}/surveys/?end=2026-02")
    heat = page.locator("#heatmap")
    expect(heat).to_contain_text("Bydel Alfa")
    expect(heat).to_contain_text("2,0")
    expect(page.locator("#trend-chart")).to_have_attribute("data-rendered", "1")  # Chart.js under the CSP
    navigate(page, lambda: heat.get_by_role("link", name="Bydel Alfa").click())
    expect(page.locator("h1")).to_have_text("Bydel Alfa")
    navigate(page, lambda: page.get_by_role("link", name="Åpne virksomhetens cockpit").click())
    expect(page.locator("main")).to_contain_text("Forfalt")
    navigate(page, lambda: page.get_by_role("link", name="Ring leverandøren").click())
    page.get_by_label("Avslutningsnotat").fill("Leverandøren varsler nå når saker løses.")
    navigate(page, lambda: page.get_by_role("button", name="Lukk tiltaket").click())
    expect(page.locator("#action-status")).to_have_text("Lukket")
    expect(page.locator("main")).to_contain_text("Leverandøren varsler nå")
    check_a11y(page)
