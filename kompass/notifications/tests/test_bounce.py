"""Bounces in the ledger: a delivery status notification for a sent e-mail marks its row, once; a bounce that
does not quote the row's own Message-ID marks nothing."""

import email
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from django.core import mail

from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.models import Delivery

pytestmark = pytest.mark.django_db


def dsn(original_bytes: bytes, status: str = "5.1.1") -> bytes:
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText("I'm sorry to have to inform you that your message could not be delivered.\n"))
    part = MIMEBase("message", "delivery-status")
    block = Message()
    block["Action"], block["Status"], block["Diagnostic-Code"] = "failed", status, "smtp; 550 5.1.1 User unknown"
    part.set_payload([Message(), block])
    report.attach(part)
    report.attach(MIMEMessage(email.message_from_bytes(original_bytes)))
    return report.as_bytes()


def test_a_bounce_marks_the_sent_row_once(cast, run_worker):
    notifications.send(event=TEST_EVENT, recipients=[cast["requester"]], template=TEST_TEMPLATE, key="b:1")
    run_worker()
    (sent,) = mail.outbox
    row = Delivery.objects.get(channel="email")
    raw = dsn(sent.message().as_bytes())
    assert [r.pk for r in notifications.record_bounce(raw)] == [row.pk]
    row.refresh_from_db()
    assert row.bounced_at is not None and row.bounce_reason == "5.1.1 smtp; 550 5.1.1 User unknown"
    first = row.bounced_at
    assert notifications.record_bounce(raw) == []  # the same bounce again (a retried intake run): no change
    row.refresh_from_db()
    assert row.bounced_at == first
    assert Delivery.objects.get(channel="portal").bounced_at is None


def test_a_bounce_naming_only_a_row_number_marks_nothing(cast, run_worker):
    notifications.send(event=TEST_EVENT, recipients=[cast["requester"]], template=TEST_TEMPLATE, key="b:2")
    run_worker()
    row = Delivery.objects.get(channel="email")
    forged = email.message.EmailMessage()
    forged["Message-ID"] = "<guess@example.org>"
    forged["X-Kompass-Delivery"] = str(row.pk)
    forged.set_content("x")
    assert notifications.record_bounce(dsn(forged.as_bytes())) == []
    assert notifications.record_bounce(b"Subject: hello\n\nnot a bounce") == []
    row.refresh_from_db()
    assert row.bounced_at is None
