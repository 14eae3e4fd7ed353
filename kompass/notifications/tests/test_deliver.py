"""The worker: delivers each ledger row exactly once, in the recipient's language, by its channel."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from kompass.core import durable
from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def _send(recipients, key="k:1", **kwargs):
    return notifications.send(
        event=TEST_EVENT,
        recipients=recipients,
        template=TEST_TEMPLATE,
        context={"note": "Tom & Jerry"},
        key=key,
        **kwargs,
    )


def _due_now():
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_it_sends_the_email_once_with_text_and_html(cast, run_worker):
    user = cast["requester"]
    (email, portal) = _send([user], headers={"X-Kompass-Reply-Token": "tok123"})
    assert run_worker().done == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Testmelding fra Kompass"
    assert "Tom & Jerry" in message.body  # plain text is not HTML-escaped
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Tom &amp; Jerry" in html
    email.refresh_from_db()
    assert email.state == Delivery.State.DONE
    assert email.sent_at is not None
    assert email.subject == "Testmelding fra Kompass"
    assert message.extra_headers["Message-ID"] == email.message_id
    assert message.extra_headers["X-Kompass-Delivery"] == str(email.pk)
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert message.extra_headers["X-Kompass-Reply-Token"] == "tok123"
    rendered = message.message()
    assert rendered["Message-ID"] == email.message_id
    assert rendered.is_multipart()
    # Nothing is sent again: not by the worker, not by the same send.
    _send([user])
    _due_now()
    assert run_worker().claimed == 0
    assert len(mail.outbox) == 1


def test_it_writes_in_the_recipients_language(cast, run_worker):
    english = cast["it_contact"]
    english.language = "en"
    english.save()
    _send([cast["requester"], english], channels=["email"])
    run_worker()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {cast["requester"].email: "Testmelding fra Kompass", english.email: "Test message from Kompass"}
    english_mail = next(m for m in mail.outbox if m.to == [english.email])
    assert "This is a test message from Kompass" in english_mail.body
    assert 'lang="en"' in english_mail.alternatives[0][0]


def test_the_portal_channel_creates_one_notification(cast, run_worker):
    (portal,) = _send([cast["requester"]], channels=["portal"])
    run_worker()
    notification = Notification.objects.get()
    assert notification.recipient == cast["requester"]
    assert notification.delivery == portal
    assert notification.subject == "Testmelding fra Kompass"
    assert "Tom & Jerry" in notification.body
    assert notification.read_at is None
    assert mail.outbox == []
    # A second attempt at the same row (a lost worker's) finds it delivered: still one notification.
    portal.refresh_from_db()
    notifications.deliver(portal)
    assert Notification.objects.count() == 1


def test_a_crash_after_sending_but_before_recording_resends_with_the_same_message_id(cast, run_worker, monkeypatch):
    """The one window SMTP leaves: the server accepted the message, the worker died before ``sent_at``."""
    (email,) = _send([cast["requester"]], channels=["email"])
    real_mark_sent = notifications._mark_sent

    def crash(delivery, subject):
        raise SystemError("worker killed right after the SMTP server said 250")

    monkeypatch.setattr(notifications, "_mark_sent", crash)
    assert run_worker().failed == 1
    monkeypatch.setattr(notifications, "_mark_sent", real_mark_sent)
    email.refresh_from_db()
    assert email.state == Delivery.State.PENDING
    assert email.sent_at is None
    first_id = email.message_id
    assert first_id
    _due_now()
    assert run_worker().done == 1
    assert len(mail.outbox) == 2  # at least once: sent twice ...
    assert {m.extra_headers["Message-ID"] for m in mail.outbox} == {first_id}  # ... as the same message


def test_a_crash_after_recording_before_completing_does_not_resend(cast, run_worker, monkeypatch):
    (email,) = _send([cast["requester"]], channels=["email"])
    # A worker claims the row, sends, records sent_at, and the row is not completed (sent_at is written with the
    # completion; here the completion does not take, as for a worker whose claim was lost: sent_at alone).
    (claimed,) = durable.claim(Delivery, "doomed-worker", lease_seconds=60)
    monkeypatch.setattr(durable, "complete", lambda row, **values: False)
    notifications.deliver(claimed)
    monkeypatch.undo()
    email.refresh_from_db()
    assert email.sent_at is not None and email.state == Delivery.State.CLAIMED
    assert len(mail.outbox) == 1
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert run_worker().done == 1  # the lease expired: another worker takes the row over ...
    assert len(mail.outbox) == 1  # ... and finds it sent
    email.refresh_from_db()
    assert email.state == Delivery.State.DONE
    assert email.attempts == 2


def test_a_failing_mail_server_ends_dead_with_the_error_then_retry_delivers(cast, run_worker, settings):
    settings.EMAIL_BACKEND = "kompass.notifications.tests.failing_backend.EmailBackend"
    (email,) = _send([cast["requester"]], channels=["email"])
    Delivery.objects.update(max_attempts=3)
    for _ in range(3):
        _due_now()
        assert run_worker().failed == 1
    email.refresh_from_db()
    assert email.state == Delivery.State.DEAD
    assert "SMTPServerDisconnected" in email.last_error
    assert email.sent_at is None
    assert notifications.health()["dead"] == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.retry([email]) == 1
    assert run_worker().done == 1
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.state == Delivery.State.DONE


def test_a_missing_template_fails_the_attempt_clearly(cast, run_worker):
    notifications.send(event=TEST_EVENT, recipients=[cast["requester"]], template="nowhere/x", key="k")
    assert run_worker().failed == 2
    assert {d.last_error.split(":")[0] for d in Delivery.objects.all()} == {"TemplateDoesNotExist"}


def test_health(cast, run_worker):
    now = timezone.now()
    assert notifications.health(now=now) == {
        "backlog": 0,
        "oldest_pending_age": None,
        "failures_last_hour": 0,
        "dead": 0,
    }
    _send([cast["requester"]])
    Delivery.objects.update(created=now - timedelta(minutes=5))
    health = notifications.health(now=now)
    assert health["backlog"] == 2
    assert health["oldest_pending_age"] == pytest.approx(300, abs=1)
    run_worker()
    assert notifications.health()["backlog"] == 0


def test_a_refused_address_stays_out_of_the_logs_and_the_error(cast, run_worker, settings, caplog):
    settings.EMAIL_BACKEND = "kompass.notifications.tests.refusing_backend.EmailBackend"
    (email,) = _send([cast["requester"]], channels=["email"])
    with caplog.at_level("DEBUG"):
        assert run_worker().failed == 1
    email.refresh_from_db()
    assert "SMTPRecipientsRefused" in email.last_error
    assert "<recipient>" in email.last_error
    assert cast["requester"].email not in email.last_error
    assert cast["requester"].email not in caplog.text
    assert "SMTPRecipientsRefused" in caplog.text


def test_an_earlier_holder_that_finishes_late_leaves_one_portal_notification(cast, run_worker):
    """A worker whose lease ran out still delivers its (stale) copy of the row after the new holder delivered it:
    the notification's one-to-one key refuses the second one and the attempt ends without an error."""
    (portal,) = _send([cast["requester"]], channels=["portal"])
    (stale,) = durable.claim(Delivery, "slow-worker", lease_seconds=60)
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert run_worker().done == 1
    assert stale.sent_at is None
    notifications.deliver(stale)  # no IntegrityError escapes
    assert Notification.objects.filter(delivery=portal).count() == 1
    portal.refresh_from_db()
    assert portal.sent_at is not None


def test_sent_at_comes_with_the_completion_and_alone_when_the_claim_was_lost_meanwhile(cast, run_worker):
    """One UPDATE records the acceptance and completes the row; a worker whose claim was taken over while it sent
    still records ``sent_at`` (the new holder then finds the row sent), but leaves the row to the new holder."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    (email, portal) = _send([cast["requester"]])
    with CaptureQueriesContext(connection) as queries:
        assert run_worker().done == 2
    marked = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and '"sent_at"' in q["sql"]]
    assert len(marked) == 2 and all("'done'" in sql for sql in marked)
    for row in (email, portal):
        row.refresh_from_db()
        assert row.state == Delivery.State.DONE and row.sent_at is not None and row.subject

    (late,) = _send([cast["requester"]], channels=["email"], key="late")
    Delivery.objects.filter(pk=late.pk).update(message_id="<kompass.delivery.late@example.org>")  # fixed earlier
    (stale,) = durable.claim(Delivery, "slow-worker", lease_seconds=60)
    Delivery.objects.filter(pk=late.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    (taken,) = durable.claim(Delivery, "new-holder", lease_seconds=60)
    notifications.deliver(stale)  # the slow worker sends after all
    late.refresh_from_db()
    assert late.sent_at is not None
    assert (late.state, late.claim_token, late.claimed_by) == ("claimed", taken.claim_token, "new-holder")
    assert stale.state == Delivery.State.CLAIMED  # not done: process() counts it lost
    notifications.deliver(Delivery.objects.get(pk=late.pk))  # the new holder finds it sent: no second e-mail
    assert len(mail.outbox) == 2
