"""The cases e-mails as delivered by the ledger's worker: in the recipient's language, a plain-text and an HTML
part, a reply address of their own, and never an internal note."""

import pytest
from django.core import mail

from kompass.cases import services
from kompass.cases.models import Case
from kompass.cases.services import ChangeOrigin
from kompass.core import durable
from kompass.core.models import User

pytestmark = pytest.mark.django_db

NOTE = "Intern: leverandøren tok feil"


def deliver():
    durable.autodiscover()
    entry = durable.PROCESSORS["notifications.delivery"]
    return durable.process(entry.model, entry.handler, "test-worker", limit=100)


def test_each_recipient_gets_their_language_both_parts_and_no_note(make_case, cast, settings):
    settings.KOMPASS_INTAKE_MAILBOX = "maildir:///nonexistent"  # the intake is on: notifications get a Reply-To
    settings.KOMPASS_INTAKE_ADDRESS = "servicedesk@kommune.example"
    case = make_case()
    english = User.objects.create_user("colleague@test.example", "x", home_agency=case.agency, language="en")
    case.watchers.add(english)
    desk = ChangeOrigin.by_user(cast["desk"])
    services.add_note(case, NOTE, origin=desk)
    services.add_reply(case, "Vi ser på det.", origin=desk)
    services.transition(case, Case.State.RESOLVED, resolution="Byttet toner.", origin=desk)
    deliver()
    resolved = {m.to[0]: m for m in mail.outbox if "resolved" in m.subject or "løst" in m.subject}
    nb, en = resolved[case.requester.email], resolved[english.email]
    assert nb.subject == f"Sak {case.number} er løst" and en.subject == f"Case {case.number} is resolved"
    assert "Er problemet ditt løst?" in nb.body and "Is your problem solved?" in en.body
    for message, language in ((nb, "nb"), (en, "en")):
        ((html, mime),) = message.alternatives
        assert mime == "text/html" and f'<html lang="{language}">' in html
        assert f"/cases/{case.pk}/" in message.body and f"/cases/{case.pk}/" in html  # a link to the case
    assert nb.extra_headers["Reply-To"] != en.extra_headers["Reply-To"]  # each their own signed address
    assert all(m.extra_headers["Reply-To"].startswith("servicedesk+") for m in resolved.values())
    assert len(mail.outbox) == 5  # received (the requester; the watcher came later), replied and resolved to both
    for message in mail.outbox:
        assert NOTE not in message.body and all(NOTE not in html for html, _ in message.alternatives)


def test_without_the_intake_there_is_no_reply_address(make_case, settings):
    settings.KOMPASS_INTAKE_MAILBOX = ""
    case = make_case()
    deliver()
    (received,) = mail.outbox
    assert "Reply-To" not in received.extra_headers
    assert received.extra_headers["X-Kompass-Case"] == case.number
    assert received.extra_headers["References"].startswith(f"<kompass.case.{case.number}.")


def test_the_portal_notification_links_to_the_case_without_reading_it_again(make_case, cast):
    from django.apps import apps
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = make_case()
    deliver()
    services.add_reply(case, "Vi ser på det.", origin=ChangeOrigin.by_user(cast["desk"]))
    with CaptureQueriesContext(connection) as ctx:
        assert deliver().done == 2  # the e-mail and the portal notification of the reply
    assert not [q for q in ctx.captured_queries if 'FROM "cases_case"' in q["sql"]]
    notification = apps.get_model("notifications", "Notification").objects.get(event="cases.replied")
    assert notification.url == case.get_absolute_url()
