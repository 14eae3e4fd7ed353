"""The e-mail intake wired into cases (``kompass.cases.mail``): real messages (built with ``email``) through a
Maildir, the handler and the seen store into real case rows; refusals, auto-replies, attachments, tampered
tokens, and the crash windows before and after the commit."""

import email
import email.policy
import mailbox

import pytest
from django.core import mail as django_mail

from kompass.cases import mail as intake
from kompass.cases import services
from kompass.cases.intake import Action, MaildirMailbox, parse_message
from kompass.cases.models import Attachment, Case, CaseChange, IntakeRecord, Reply
from kompass.cases.services import ChangeOrigin
from kompass.cases.tests import intake_support as msgs
from kompass.core import durable
from kompass.core.models import User

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


@pytest.fixture
def box(tmp_path, settings):
    """A Maildir the intake reads, configured as the intake mailbox, with the tests' desk address."""
    settings.KOMPASS_INTAKE_ADDRESS = msgs.DESK
    settings.KOMPASS_INTAKE_MAILBOX = f"maildir://{tmp_path / 'intake'}"
    maildir = mailbox.Maildir(tmp_path / "intake", create=True)

    def deliver(*messages):
        for message in messages:
            maildir.add(message if isinstance(message, bytes) else message.as_bytes())

    deliver.path = tmp_path / "intake"
    deliver.pending = lambda: [m.key for m in MaildirMailbox(tmp_path / "intake").pending()]
    return deliver


@pytest.fixture
def case(make_case):
    return make_case(title="Skriveren virker ikke")


def run():
    return intake.run_intake()


def actions(report):
    return [item.action for item in report.items]


def reply_to(case, user=None):
    """The notification Kompass sends about ``case`` to ``user`` (default: the requester), as a client sees it."""
    return msgs.notification(recipient=(user or case.requester).email, reference=case.number)


# ---------------------------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------------------------


def test_an_outlook_reply_becomes_a_public_reply_by_email(box, case):
    box(msgs.outlook_reply(reply_to(case), sender=case.requester.email))
    report = run()
    assert actions(report) == [Action.REPLY_POSTED] and report.items[0].reference == case.number
    reply = Reply.objects.get(case=case)
    assert reply.text == "Hei,\n\nTakk, skriveren virker nå. Dere kan lukke saken."
    assert "Fra: Kompass servicedesk" in reply.full_text  # nothing lost: the whole message is kept
    assert (reply.author, reply.origin) == (case.requester, "email")
    assert reply.source_message_id == report.items[0].message_id
    assert not reply.attachments.exists()  # the signature logo is part of the body, not an attachment
    change = CaseChange.objects.get(case=case, kind="reply")
    assert (change.origin, change.actor) == ("email", case.requester)
    record = IntakeRecord.objects.get()
    assert (record.done, record.action, record.reference) == (True, "reply_posted", case.number)
    assert box.pending() == []
    assert run().items == []  # processed in the mailbox: the next run finds nothing


def test_a_gmail_reply_keeps_only_the_new_text_and_resumes_a_waiting_case(box, case, cast):
    services.transition(case, Case.State.WAITING_FOR_REQUESTER, origin=ChangeOrigin.by_user(cast["desk"]))
    box(msgs.gmail_reply(reply_to(case), sender=case.requester.email))
    assert actions(run()) == [Action.REPLY_POSTED]
    assert Reply.objects.get(case=case).text == "Hei!\n\nJeg får fortsatt feilmelding når jeg logger inn."
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS  # the requester answered: the SLA clock runs again


def test_a_reply_keeps_its_attachments_through_the_checks_and_names_refused_ones(box, case):
    message = msgs.outlook_reply(reply_to(case), sender=case.requester.email)
    message.add_attachment(msgs.PDF, maintype="application", subtype="pdf", filename="Feilmelding.pdf")
    message.add_attachment(EXE, maintype="application", subtype="pdf", filename="faktura.pdf")  # lies about itself
    box(message)
    assert actions(run()) == [Action.REPLY_POSTED]
    reply = Reply.objects.get(case=case)
    stored = list(reply.attachments.values_list("name", "content_type"))
    assert stored == [("Feilmelding.pdf", "application/pdf")]
    assert Attachment.objects.get().file.read() == msgs.PDF
    assert "faktura.pdf" in reply.text.splitlines()[-1]  # the refused file is named on the reply, not lost silently


def test_a_tampered_token_from_someone_else_is_refused_with_a_bounce(box, case, cast):
    other = services.create_case(
        requester=cast["it_contact"],
        agency=case.agency,
        service=case.service,
        title="Annen sak",
        origin=ChangeOrigin.by_user(cast["desk"]),
    )
    # The it_contact's own, genuine token, with the reference changed to the requester's case.
    genuine = reply_to(other, cast["it_contact"])
    tampered = msgs.outlook_reply(genuine, sender=cast["it_contact"].email)
    raw = tampered.as_bytes().replace(other.number.encode(), case.number.encode())
    raw = raw.replace(other.number.lower().encode(), case.number.lower().encode())
    box(raw)
    report = run()
    assert actions(report) == [Action.REFUSED] and report.items[0].bounced
    assert not Reply.objects.exists()
    (bounce,) = django_mail.outbox
    assert bounce.to == [cast["it_contact"].email] and bounce.extra_headers["Auto-Submitted"] == "auto-replied"
    assert IntakeRecord.objects.get().reason == "unverified_reply"


def test_a_tampered_token_from_the_requester_still_finds_their_case(box, case):
    message = reply_to(case)
    raw = msgs.outlook_reply(message, sender=case.requester.email).as_bytes()
    signature = str(message["Reply-To"]).split("@")[0].split(".")[-1]
    assert len(signature) == 16
    raw = raw.replace(signature.encode(), b"a" * 16).replace(signature.upper().encode(), b"A" * 16)
    box(raw)
    assert actions(run()) == [Action.REPLY_POSTED]  # a participant: accepted on the claimed reference
    assert Reply.objects.filter(case=case).count() == 1


def test_a_reply_to_a_closed_case_is_refused_politely(box, case, cast):
    desk = ChangeOrigin.by_user(cast["desk"])
    services.transition(case, Case.State.RESOLVED, resolution="Fikset.", origin=desk)
    services.transition(case, Case.State.CLOSED, origin=desk)
    box(msgs.gmail_reply(reply_to(case), sender=case.requester.email))
    report = run()
    assert actions(report) == [Action.REFUSED] and report.items[0].reason == "case_closed"
    assert not Reply.objects.exists() and len(django_mail.outbox) == 1


def test_auto_replies_are_ignored_and_never_answered(box, case, settings):
    notification = reply_to(case)
    out_of_office = msgs.outlook_out_of_office(notification)
    out_of_office.replace_header("From", case.requester.email)
    box(out_of_office, msgs.rfc3834_auto_reply(sender=case.requester.email), msgs.bounce(notification))
    assert actions(run()) == [Action.IGNORED] * 3
    assert not Reply.objects.exists() and Case.objects.count() == 1 and django_mail.outbox == []
    assert box.pending() == []


# ---------------------------------------------------------------------------------------------
# New cases
# ---------------------------------------------------------------------------------------------


def test_html_only_mail_to_the_desk_opens_a_case_for_the_known_sender(box, cast, service):
    box(msgs.html_only(sender=cast["requester"].email.upper()))  # addresses match whatever their case
    report = run()
    assert actions(report) == [Action.CASE_OPENED]
    case = Case.objects.get()
    assert (case.number, case.requester, case.source, case.agency) == (
        report.items[0].reference,
        cast["requester"],
        "email",
        cast["requester"].home_agency,
    )
    assert case.title == "Skjermen er svart" and case.service == service
    assert "Skjermen min er svart & PC en piper." in case.description and "alert" not in case.description
    assert case.source_message_id == report.items[0].message_id
    assert CaseChange.objects.get(case=case, kind="created").origin == "email"


def test_a_forward_opens_a_case_with_the_forwarded_text(box, cast):
    box(msgs.gmail_forward(sender=cast["requester"].email))
    assert actions(run()) == [Action.CASE_OPENED]
    case = Case.objects.get()
    assert case.title == "Fwd: Feil i fakturasystemet"
    assert "Fakturasystemet avviser alle fakturaer med KID." in case.description


def test_a_new_case_keeps_its_attachments_but_not_inline_images(box, cast):
    box(msgs.with_attachments(sender=cast["requester"].email))
    assert actions(run()) == [Action.CASE_OPENED]
    case = Case.objects.get()
    assert case.title == "Søknad om tilgang – økonomi og lønn (Tromsø-kontoret)"
    assert sorted(case.attachments.values_list("content_type", flat=True)) == ["application/pdf", "text/plain"]


def test_an_unknown_sender_gets_a_bounce_and_nothing_is_registered(box, case):
    box(msgs.html_only(sender="ukjent@example.no"))
    report = run()
    assert actions(report) == [Action.REFUSED] and report.items[0].reason == "unknown_sender"
    assert Case.objects.count() == 1
    (bounce,) = django_mail.outbox
    assert bounce.to == ["ukjent@example.no"] and "ikke" in bounce.body
    assert bounce.extra_headers["X-Kompass-Origin"] == "intake-refusal"
    assert box.pending() == [] and run().items == []  # refused once: not bounced again


def test_a_user_who_may_not_register_cases_is_refused(box, cast):
    box(msgs.html_only(sender=cast["noroles"].email))
    assert actions(run()) == [Action.REFUSED]
    assert not Case.objects.exists()


def test_our_own_mail_coming_back_is_ignored(box, cast, settings):
    box(msgs.html_only(sender=settings.DEFAULT_FROM_EMAIL))
    assert actions(run()) == [Action.IGNORED]
    assert not Case.objects.exists() and django_mail.outbox == []


# ---------------------------------------------------------------------------------------------
# Never lost, never twice
# ---------------------------------------------------------------------------------------------


def test_a_crash_after_the_commit_before_the_mark_does_not_post_twice(box, case, monkeypatch):
    box(msgs.outlook_reply(reply_to(case), sender=case.requester.email))
    real = MaildirMailbox.mark_processed

    def killed(self, key):
        raise SystemExit("worker killed between the commit and the mark")

    monkeypatch.setattr(MaildirMailbox, "mark_processed", killed)
    with pytest.raises(SystemExit):
        run()
    assert Reply.objects.count() == 1 and len(box.pending()) == 1  # committed, but still pending in the mailbox
    monkeypatch.setattr(MaildirMailbox, "mark_processed", real)
    intake._release_lease(intake._holder())  # the killed run never released it
    report = run()
    assert actions(report) == [Action.DUPLICATE]
    assert Reply.objects.count() == 1 and box.pending() == []


def test_a_crash_before_the_commit_loses_nothing_and_posts_once(box, case, monkeypatch):
    box(msgs.gmail_reply(reply_to(case), sender=case.requester.email))
    real = services._record
    calls = []

    def crash_once(*args, **kwargs):
        if not calls:
            calls.append(1)
            raise RuntimeError("database went away inside the transaction")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_record", crash_once)
    report = run()
    assert actions(report) == [Action.FAILED]
    assert not Reply.objects.exists() and not Attachment.objects.exists()  # rolled back, the reply row too
    record = IntakeRecord.objects.get()
    assert (record.done, record.attempts) == (False, 1) and "went away" in record.last_error
    assert len(box.pending()) == 1  # still pending
    assert actions(run()) == [Action.REPLY_POSTED]
    assert Reply.objects.count() == 1 and box.pending() == []
    assert IntakeRecord.objects.get().done


def test_the_same_message_twice_in_the_mailbox_is_one_reply(box, case):
    message = msgs.outlook_reply(reply_to(case), sender=case.requester.email)
    box(message, message)
    assert actions(run()) == [Action.REPLY_POSTED, Action.DUPLICATE]
    assert Reply.objects.count() == 1


def test_a_message_posted_meanwhile_is_a_duplicate_not_an_error(box, case):
    """The unique Message-ID decides when two runs race: the loser's transaction changes nothing."""
    message = msgs.outlook_reply(reply_to(case), sender=case.requester.email)
    parsed = parse_message(message.as_bytes())
    first = intake.IntakeHandler("maildir:/elsewhere")(parsed)
    second = intake.IntakeHandler("maildir:/other")(parsed)
    assert (first.action, second.action) == (Action.REPLY_POSTED, Action.DUPLICATE)
    assert Reply.objects.count() == 1


def test_the_intake_records_are_for_administrators_only(cast, case):
    from kompass.core import access

    record = IntakeRecord.objects.create(mailbox="maildir:/x", message_id="<a@b>", done=True)
    for key, user in cast.items():
        assert access.can(user, "view", record) is (key == "admin"), key


# ---------------------------------------------------------------------------------------------
# The notification's own headers carry the reply token (end to end through the ledger's worker)
# ---------------------------------------------------------------------------------------------


def deliver_notifications():
    durable.autodiscover()
    entry = durable.PROCESSORS["notifications.delivery"]
    return durable.process(entry.model, entry.handler, "test-worker", limit=100)


def test_a_reply_to_the_delivered_notification_lands_on_the_case(box, case, cast):
    watcher = User.objects.create_user("kollega@test.example", "x", home_agency=case.agency, language="en")
    case.watchers.add(watcher)
    services.add_reply(case, "Vi har bestilt ny toner.", origin=ChangeOrigin.by_user(cast["desk"]))
    deliver_notifications()
    sent = {m.to[0]: m for m in django_mail.outbox if m.extra_headers.get("X-Kompass-Case") == case.number}
    assert set(sent) >= {case.requester.email, watcher.email}
    # One signed reply address per recipient: a watcher's token is not the requester's.
    assert sent[case.requester.email].extra_headers["Reply-To"] != sent[watcher.email].extra_headers["Reply-To"]
    notification = email.message_from_bytes(sent[watcher.email].message().as_bytes(), policy=email.policy.default)
    assert str(notification["Reply-To"]).startswith("servicedesk+" + case.number.lower())
    django_mail.outbox.clear()
    box(msgs.gmail_reply(notification, sender=watcher.email))
    assert actions(run()) == [Action.REPLY_POSTED]
    reply = Reply.objects.get(case=case, origin="email")
    assert reply.author == watcher and reply.text == "Hei!\n\nJeg får fortsatt feilmelding når jeg logger inn."


def infected(content: bytes) -> bool:
    """A scan hook (``KOMPASS_CASES_SCAN_HOOK``) that finds every PDF infected."""
    return not content.startswith(b"%PDF")


def test_a_file_the_virus_scan_refuses_does_not_cost_the_reply(box, case, settings):
    settings.KOMPASS_CASES_SCAN_HOOK = "kompass.cases.tests.test_intake_handler.infected"
    message = msgs.gmail_reply(reply_to(case), sender=case.requester.email)
    message.add_attachment(msgs.PDF, maintype="application", subtype="pdf", filename="virus.pdf")
    box(message)
    assert actions(run()) == [Action.REPLY_POSTED]
    reply = Reply.objects.get(case=case)
    assert not Attachment.objects.exists() and "virus.pdf" in reply.text
