"""Issue 8's "done when", end to end in the browser with axe on every page: an agency user submits a case with an
attachment in the portal; an agent opens it from the queue and replies; the notifications worker delivers the
e-mails (the ledger, Django's outbox); the requester answers the reply *by e-mail* and the answer shows on the
case page; the agent resolves; the requester opens the e-mail's one-click "solved" link without logging in
(it works once: a second visit shows "already used"), the case is closed and the requester rates it."""

import email
import email.policy
import mailbox
import re

import pytest
from django.core import mail as django_mail

from kompass.cases import notify, scheduling
from kompass.cases.models import Case, Reply
from kompass.cases.tests import intake_support as msgs
from kompass.core import durable
from kompass.core.models import Organisation
from kompass.testing.browser import _assert_all_checked, _new_page, log_in, navigate, visit
from kompass.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Intern vurdering: driveren fra leverandøren er feil"
ANSWER_LINK = re.compile(r"https?://\S+/cases/answer/[^/\s]+/")


def deliver():
    """What the notifications worker does: deliver every due ledger row once."""
    durable.autodiscover()
    entry = durable.PROCESSORS["notifications.delivery"]
    return durable.process(entry.model, entry.handler, "test-worker", limit=100)


def email_of(case, event):
    """The e-mail the ledger sent for ``event`` about ``case``, as the recipient's mail client reads it."""
    (row,) = [d for d in notify.deliveries_for(case) if d.event == event and d.channel == "email"]
    assert row.state == "done" and row.sent_at is not None
    (sent,) = [m for m in django_mail.outbox if m.extra_headers["Message-ID"] == row.message_id]
    return sent


@pytest.fixture
def intake_box(settings, tmp_path):
    settings.KOMPASS_INTAKE_ADDRESS = msgs.DESK
    settings.KOMPASS_INTAKE_MAILBOX = f"maildir://{tmp_path / 'intake'}"
    return mailbox.Maildir(tmp_path / "intake", create=True)


def test_portal_case_to_email_confirmation_and_reply_by_email(
    browser, page, live_server, cast, service, settings, intake_box
):
    Organisation.current()
    base = live_server.url
    settings.KOMPASS_CASES_SITE_URL = base
    requester = cast["requester"]

    # 1. The requester registers a case in the portal, with an attachment.
    log_in(page, base, requester.email, PASSWORD)
    navigate(page, lambda: page.locator("nav.kp-nav a[href='/cases/portal/']").click())
    navigate(page, lambda: page.locator("main a[href='/cases/new/']").click())
    page.locator("#id_service").select_option(str(service.pk))
    page.locator("#id_title").fill("Skriveren på kontoret skriver ikke ut")
    page.locator("#id_description").fill("Det kommer en feilmelding om papirstopp.")
    page.locator("#id_attachments").set_input_files(
        [{"name": "feilmelding.pdf", "mimeType": "application/pdf", "buffer": msgs.PDF}]
    )
    navigate(page, lambda: page.locator("main form button[type=submit]").click())
    case = Case.objects.get()
    assert (case.source, case.attachments.get().content_type) == ("portal", "application/pdf")
    assert page.get_by_role("link", name="feilmelding.pdf").count() == 1

    # 2. An agent opens it from the queue, replies, and writes an internal note.
    agent_context, agent = _new_page(browser, bypass_csp=True)
    try:
        log_in(agent, base, cast["desk"].email, PASSWORD)
        visit(agent, f"{base}/cases/")
        navigate(agent, lambda: agent.get_by_role("link", name=case.number).click())
        agent.locator("main form[action$='/reply/'] textarea[name=text]").fill("Vi sender en tekniker i morgen.")
        navigate(agent, lambda: agent.locator("main form[action$='/reply/'] button[type=submit]").click())
        agent.locator("main form[action$='/note/'] textarea[name=text]").fill(NOTE)
        navigate(agent, lambda: agent.locator("main form[action$='/note/'] button[type=submit]").click())

        # 3. The worker delivers "received" and "replied"; the case page says who was told, when, how.
        assert deliver().done >= 2
        received = email_of(case, "cases.received")
        html, mime = received.alternatives[0]
        assert mime == "text/html" and '<html lang="nb">' in html and received.body.strip()
        assert "mottatt" in received.subject  # the requester's language: bokmål
        visit(agent, f"{base}/cases/{case.pk}/")
        informed = agent.locator("ul.kp-informed").inner_text()
        assert f"{requester.full_name} informert" in informed and "på e-post" in informed

        # 4. The requester answers the reply from their mail client; the intake job posts it on the case.
        replied = email_of(case, "cases.replied")
        notification = email.message_from_bytes(replied.message().as_bytes(), policy=email.policy.default)
        intake_box.add(msgs.gmail_reply(notification, sender=requester.email).as_bytes())
        scheduling.intake()  # the scheduled job cases.intake
        by_mail = Reply.objects.get(case=case, origin="email")
        assert by_mail.author == requester and "gmail_quote" not in by_mail.text
        visit(agent, f"{base}/cases/{case.pk}/")
        timeline = agent.locator("ol.kp-timeline").inner_text()
        assert "Jeg får fortsatt feilmelding når jeg logger inn." in timeline
        assert "Leverandøren har svart i saken din." not in timeline  # the quoted notification was stripped

        # 5. The agent resolves.
        agent.locator("#id_resolution").fill("Papirstoppen er fjernet og driveren oppdatert.")
        navigate(agent, lambda: agent.locator("main button[name=state][value=resolved]").click())
        assert agent.get_by_test_id("case-state").inner_text().strip() == "Løst"
        _assert_all_checked(agent)
    finally:
        agent_context.close()

    # 6. The requester gets the resolved e-mail (text and HTML), with the one-click links.
    deliver()
    resolved = email_of(case, "cases.resolved")
    solved, not_solved = ANSWER_LINK.findall(resolved.body)
    assert f'href="{solved}"' in resolved.alternatives[0][0] and solved != not_solved
    assert resolved.to == [requester.email] and resolved.extra_headers["Reply-To"].startswith("servicedesk+")

    # 7. The link needs no login and works once.
    link_context, link_page = _new_page(browser, bypass_csp=True)
    try:
        visit(link_page, solved)
        navigate(link_page, lambda: link_page.locator("main form button[type=submit]").click())
        assert link_page.locator("h1").inner_text().strip() == "Takk"
        visit(link_page, solved, expect_status=410)
        assert link_page.locator("h1").inner_text().strip() == "Denne lenken er allerede brukt"
        visit(link_page, not_solved, expect_status=410)  # the other answer is spent as well
        _assert_all_checked(link_page)
    finally:
        link_context.close()
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    assert case.changes.filter(kind="state", detail__to="closed", origin="email").exists()

    # 8. The requester sees the closed case, with their e-mail reply on it, and rates the handling.
    visit(page, f"{base}/cases/{case.pk}/")
    assert page.get_by_test_id("case-state").inner_text().strip() == "Lukket"
    assert "Jeg får fortsatt feilmelding når jeg logger inn." in page.locator("ol.kp-timeline").inner_text()
    assert NOTE not in page.content()
    page.locator("main input[name=rating][value='4']").check()
    page.locator("main form[action$='/rate/'] textarea[name=comment]").fill("Rask hjelp.")
    navigate(page, lambda: page.locator("main form[action$='/rate/'] button[type=submit]").click())
    case.refresh_from_db()
    assert (case.rating, case.rating_comment) == (4, "Rask hjelp.")

    # Every e-mail the requester got: text and HTML, and never the internal note.
    deliver()
    to_requester = [m for m in django_mail.outbox if m.to == [requester.email]]
    assert {row.event for row in notify.deliveries_for(case) if row.channel == "email"} >= {
        "cases.received",
        "cases.replied",
        "cases.resolved",
        "cases.closed",
    }
    for message in to_requester:
        assert message.body.strip() and message.alternatives[0][1] == "text/html"
        assert NOTE not in message.body and NOTE not in message.alternatives[0][0]
