"""The intake end to end on a real Maildir: outcomes, bounces, crashes and retries, never a double post."""

import mailbox

import pytest
from django.core import mail as outbox

from kompass.cases.intake import (
    Action,
    InMemorySeenStore,
    MaildirMailbox,
    Outcome,
    open_mailbox,
    parse_message,
    process_mailbox,
    send_bounce,
)
from kompass.cases.intake.mailboxes import ImapMailbox
from kompass.cases.tests import intake_support as mail


@pytest.fixture
def maildir(tmp_path):
    return tmp_path / "Maildir"


def deliver(path, *messages):
    """Deliver as an MTA does: into new/."""
    box = mailbox.Maildir(path, create=True)
    return [box.add(m if isinstance(m, bytes) else m.as_bytes()) for m in messages]


def state(path):
    """``{key: (subdir, flags)}`` of the inbox and the keys in .Failed."""
    box = mailbox.Maildir(path, create=False)
    inbox = {key: (msg.get_subdir(), msg.get_flags()) for key, msg in box.items()}
    failed = set(box.get_folder("Failed").keys()) if "Failed" in box.list_folders() else set()
    return inbox, failed


class SeenByCases(InMemorySeenStore):
    """The cases app's seen store: its own tables (the fake's replies and cases) answer first."""

    def __init__(self, cases):
        super().__init__()
        self.cases = cases

    def already_processed(self, message_id):
        return self.cases.already_processed(message_id) or super().already_processed(message_id)


def run(path, cases, store, **kwargs):
    return process_mailbox(MaildirMailbox(path), cases.handle, seen_store=store, own_addresses=[mail.DESK], **kwargs)


def test_it_processes_every_kind_of_message(maildir):
    note_kari, note_ola = mail.notification(mail.KARI), mail.notification(mail.OLA)
    messages = {
        "outlook": mail.outlook_reply(note_kari),
        "gmail": mail.gmail_reply(note_ola, to=mail.DESK),
        "new case": mail.html_only(),
        "forward": mail.gmail_forward(),
        "attachments": mail.with_attachments(),
        "ooo": mail.outlook_out_of_office(note_kari),
        "rfc3834": mail.rfc3834_auto_reply(),
        "bounce": mail.bounce(note_kari),
        "own mail": note_kari,
        "stranger": mail.html_only(sender="stranger@example.no"),
    }
    keys = dict(zip(messages, deliver(maildir, *messages.values()), strict=True))
    cases = mail.FakeCases()
    report = run(maildir, cases, SeenByCases(cases))

    actions = {name: next(i.action for i in report.items if i.key == keys[name]) for name in messages}
    assert actions == {
        "outlook": Action.REPLY_POSTED,
        "gmail": Action.REPLY_POSTED,
        "new case": Action.CASE_OPENED,
        "forward": Action.CASE_OPENED,
        "attachments": Action.CASE_OPENED,
        "ooo": Action.IGNORED,
        "rfc3834": Action.IGNORED,
        "bounce": Action.IGNORED,
        "own mail": Action.IGNORED,
        "stranger": Action.REFUSED,
    }
    assert sorted(text for _, text in cases.replies.values()) == [
        "Hei!\n\nJeg får fortsatt feilmelding når jeg logger inn.",
        "Hei,\n\nTakk, skriveren virker nå. Dere kan lukke saken.",
    ]
    inbox, failed = state(maildir)
    assert all(subdir == "cur" and "S" in flags for subdir, flags in inbox.values())
    assert len(inbox) == len(messages) and not failed  # nothing deleted
    (bounce,) = outbox.outbox
    assert bounce.to == ["stranger@example.no"]
    # A second run finds nothing to do.
    assert run(maildir, cases, SeenByCases(cases)).items == []


def test_a_crash_before_commit_leaves_the_message_pending_for_the_next_run(maildir):
    (key,) = deliver(maildir, mail.outlook_reply(mail.notification()))
    cases = mail.FakeCases(crash_before_commit=1)
    store = SeenByCases(cases)

    first = run(maildir, cases, store)
    assert [i.action for i in first.items] == [Action.FAILED]
    assert "database went away" in first.items[0].reason
    assert state(maildir)[0][key][0] == "new" and not cases.replies

    second = run(maildir, cases, store)
    assert [i.action for i in second.items] == [Action.REPLY_POSTED]
    assert len(cases.replies) == 1
    assert state(maildir)[0][key] == ("cur", "S")


def test_a_crash_after_commit_does_not_post_twice(maildir):
    (key,) = deliver(maildir, mail.outlook_reply(mail.notification()))
    cases = mail.FakeCases(crash_after_commit=1)

    assert [i.action for i in run(maildir, cases, SeenByCases(cases)).items] == [Action.FAILED]
    assert len(cases.replies) == 1 and state(maildir)[0][key][0] == "new"  # committed, but not marked

    again = run(maildir, cases, SeenByCases(cases))  # a fresh process: only the cases tables remember
    assert [i.action for i in again.items] == [Action.DUPLICATE]
    assert len(cases.replies) == 1 and cases.calls == 1
    assert state(maildir)[0][key] == ("cur", "S")


def test_the_handler_is_called_again_when_the_mailbox_was_not_marked(maildir, monkeypatch):
    """At-least-once: if marking fails, the next run hands the message over again; the handler dedups."""
    (key,) = deliver(maildir, mail.outlook_reply(mail.notification()))
    cases = mail.FakeCases()
    monkeypatch.setattr(MaildirMailbox, "mark_processed", lambda self, key: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        run(maildir, cases, InMemorySeenStore())
    monkeypatch.undo()
    run(maildir, cases, InMemorySeenStore())
    assert cases.calls == 2 and len(cases.replies) == 1
    assert state(maildir)[0][key] == ("cur", "S")


def test_a_message_that_keeps_failing_is_moved_aside_and_does_not_block_the_rest(maildir):
    poison, good = deliver(maildir, mail.outlook_reply(mail.notification()), mail.html_only())

    def handler(message):
        if "SV:" in message.subject:
            raise ValueError("cannot handle this one")
        return Outcome.case_opened("KOM-2026-000001")

    store = InMemorySeenStore()
    for _ in range(3):
        process_mailbox(MaildirMailbox(maildir), handler, seen_store=store, max_attempts=3)
    inbox, failed = state(maildir)
    assert failed == {poison}
    assert inbox == {good: ("cur", "S")}
    assert process_mailbox(MaildirMailbox(maildir), handler, seen_store=store).items == []


def test_a_duplicate_delivery_is_handled_once(maildir):
    reply = mail.outlook_reply(mail.notification())
    deliver(maildir, reply, reply)  # e.g. delivered to two of our addresses
    cases = mail.FakeCases()
    report = run(maildir, cases, SeenByCases(cases))
    assert sorted(i.action for i in report.items) == [Action.DUPLICATE, Action.REPLY_POSTED]
    assert cases.calls == 1


def test_mail_from_our_own_address_is_ignored(maildir):
    deliver(maildir, mail.html_only(sender=mail.DESK))
    cases = mail.FakeCases()
    report = run(maildir, cases, SeenByCases(cases))
    assert [i.action for i in report.items] == [Action.IGNORED] and cases.calls == 0


def test_a_forged_token_is_refused_with_a_bounce(maildir):
    forged = mail.outlook_reply(mail.notification(), sender="mallory@evil.example")
    forged.replace_header("To", "servicedesk+kom-2026-000123.aaaaaaaaaaaaaaaa@kommune.example")
    del forged["In-Reply-To"], forged["References"]
    deliver(maildir, forged)
    cases = mail.FakeCases()
    report = run(maildir, cases, SeenByCases(cases))
    assert [(i.action, i.reason, i.bounced) for i in report.items] == [(Action.REFUSED, "unverified_reply", True)]
    assert not cases.replies


# --- The refusal ------------------------------------------------------------------------------------------------


def test_the_refusal_is_bilingual_and_marked_automatic():
    message = parse_message(mail.html_only(sender="stranger@example.no").as_bytes())
    assert send_bounce(message, "unknown_sender", portal_url="https://kompass.kommune.example/")
    (sent,) = outbox.outbox
    assert sent.subject == "Meldingen din ble ikke tatt imot / Your message was not accepted: Skjermen er svart"
    assert "Vi kjenner ikke adressen du skrev fra" in sent.body
    assert "We do not know the address you wrote from" in sent.body
    assert sent.body.index("Vi kunne ikke ta imot") < sent.body.index("We could not accept")
    assert "https://kompass.kommune.example/" in sent.body
    headers = sent.message()
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Kompass-Origin"] == "intake-refusal"
    assert headers["In-Reply-To"] == message.message_id
    # Should it come back to the intake mailbox, it is our own mail.
    assert parse_message(headers.as_bytes()).ignored


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.__setitem__("X-Auto-Response-Suppress", "All"),
        lambda m: m.__setitem__("Return-Path", "<>"),
        lambda m: m.replace_header("From", "no-reply@example.no"),
        lambda m: m.replace_header("From", "MAILER-DAEMON@example.no"),
        lambda m: m.__setitem__("Auto-Submitted", "auto-replied"),
        lambda m: m.__setitem__("X-Spam-Flag", "YES"),
        lambda m: m.__setitem__("Authentication-Results", "mx.kommune.example; spf=fail smtp.mailfrom=example.no"),
    ],
    ids=["suppressed", "null-sender", "no-reply", "daemon", "auto-submitted", "spam", "spf-fail"],
)
def test_no_refusal_where_it_could_loop(change):
    msg = mail.html_only(sender="stranger@example.no")
    change(msg)
    assert not send_bounce(parse_message(msg.as_bytes()), "unknown_sender")
    assert outbox.outbox == []


# --- Mailbox URLs -----------------------------------------------------------------------------------------------


def test_open_mailbox_from_urls(tmp_path):
    box = open_mailbox(f"maildir://{tmp_path}/Maildir?failed=Feilet")
    assert isinstance(box, MaildirMailbox) and box.failed_folder == "Feilet"
    imap = open_mailbox("imaps://kompass%40kommune.example@imap.kommune.example/Innboks/Kompass", password="pw")
    assert isinstance(imap, ImapMailbox)
    assert (imap.host, imap.port, imap.user, imap.folder, imap.security) == (
        "imap.kommune.example", 993, "kompass@kommune.example", "Innboks/Kompass", "ssl"
    )  # fmt: skip
    assert open_mailbox("imap+starttls://u@imap.example:1143/INBOX").security == "starttls"
    with pytest.raises(ValueError, match="loopback"):
        open_mailbox("imap://u@imap.kommune.example/INBOX")
    with pytest.raises(ValueError, match="scheme"):
        open_mailbox("pop3://u@host/")


def test_a_message_the_parser_chokes_on_is_retried_then_set_aside(maildir, monkeypatch):
    (bad,) = deliver(maildir, mail.html_only())
    monkeypatch.setattr("kompass.cases.intake.process.parse_message", lambda raw: 1 / 0)
    store = InMemorySeenStore()
    reports = [process_mailbox(MaildirMailbox(maildir), mail.FakeCases().handle, seen_store=store, max_attempts=2)
               for _ in range(2)]  # fmt: skip
    assert [r.items[0].action for r in reports] == [Action.FAILED, Action.FAILED]
    assert state(maildir) == ({}, {bad})
