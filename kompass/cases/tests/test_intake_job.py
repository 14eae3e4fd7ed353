"""The scheduled job ``cases.intake``: registered with core's scheduler, reads the configured Maildir, off when
unset, and never runs twice at once (a lease)."""

import mailbox
from datetime import timedelta

import pytest
from django.utils import timezone

from kompass.cases import scheduling
from kompass.cases.models import Case, IntakeRecord
from kompass.cases.tests import intake_support as msgs
from kompass.core.models import SchedulerLease
from kompass.core.scheduling import JOBS, Every

pytestmark = pytest.mark.django_db


@pytest.fixture
def maildir(tmp_path, settings):
    path = tmp_path / "var" / "mail" / "intake"
    path.parent.mkdir(parents=True)
    settings.KOMPASS_INTAKE_MAILBOX = f"maildir://{path}"
    settings.KOMPASS_INTAKE_ADDRESS = msgs.DESK
    return mailbox.Maildir(path, create=True)


def test_the_job_is_registered_on_the_configured_interval(settings):
    job = JOBS["cases.intake"]
    assert job.func is scheduling.intake
    assert job.schedule == Every(timedelta(seconds=settings.KOMPASS_INTAKE_INTERVAL))


def test_the_job_reads_the_maildir_and_marks_what_it_handled(maildir, cast, service):
    maildir.add(msgs.html_only(sender=cast["requester"].email).as_bytes())
    maildir.add(msgs.html_only(sender="ukjent@example.no").as_bytes())
    JOBS["cases.intake"].func()
    case = Case.objects.get()
    assert (case.source, case.requester) == ("email", cast["requester"])
    assert sorted(IntakeRecord.objects.values_list("action", flat=True)) == ["case_opened", "refused"]
    assert all("S" in message.get_flags() for message in maildir)  # both marked processed, none deleted
    assert len(maildir) == 2
    JOBS["cases.intake"].func()  # the next run finds nothing new
    assert Case.objects.count() == 1
    assert SchedulerLease.objects.get(name="cases.intake").expires_at <= timezone.now()  # released


def test_a_missing_maildir_is_created_with_its_parents(settings, tmp_path):
    settings.KOMPASS_INTAKE_MAILBOX = f"maildir://{tmp_path / 'a' / 'b' / 'intake'}"
    JOBS["cases.intake"].func()
    assert (tmp_path / "a" / "b" / "intake" / "new").is_dir()


def test_the_job_does_nothing_when_the_intake_is_off(settings, tmp_path):
    settings.KOMPASS_INTAKE_MAILBOX = ""
    JOBS["cases.intake"].func()
    assert not SchedulerLease.objects.filter(name="cases.intake").exists()


def test_a_run_still_going_keeps_a_second_one_out(maildir, cast, service):
    maildir.add(msgs.html_only(sender=cast["requester"].email).as_bytes())
    SchedulerLease.objects.create(
        name="cases.intake", holder="other-host:1", expires_at=timezone.now() + timedelta(minutes=5)
    )
    JOBS["cases.intake"].func()
    assert not Case.objects.exists() and "S" not in next(iter(maildir)).get_flags()
    SchedulerLease.objects.filter(name="cases.intake").update(expires_at=timezone.now())  # that run died
    JOBS["cases.intake"].func()
    assert Case.objects.count() == 1


def test_a_crashed_run_blocks_the_intake_for_a_minute_at_most_and_a_live_one_renews_its_lease(
    maildir, cast, service, monkeypatch
):
    from kompass.cases import mail as intake_mail

    assert intake_mail.LEASE_SECONDS <= 60
    for _ in range(3):
        maildir.add(msgs.html_only(sender=cast["requester"].email).as_bytes())
    renewals = []
    renew = intake_mail._renew_lease
    monkeypatch.setattr(intake_mail, "_renew_lease", lambda holder: renewals.append(holder) or renew(holder))
    JOBS["cases.intake"].func()
    assert Case.objects.count() == 3 and len(renewals) == 2  # before the second and the third message
    # A run whose lease was taken over (it ran past it, another run took it) stops before its next message.
    for _ in range(2):
        maildir.add(msgs.html_only(sender=cast["requester"].email).as_bytes())
    monkeypatch.setattr(intake_mail, "_renew_lease", lambda holder: False)
    JOBS["cases.intake"].func()
    assert Case.objects.count() == 4  # one handled, the other left pending for the next run


def test_a_bounce_of_our_e_mail_marks_its_ledger_row_and_is_not_answered(maildir, cast, service, settings):
    from django.core import mail

    from kompass.cases import notify, services
    from kompass.cases.services import ChangeOrigin
    from kompass.cases.tests.test_notification_mail import deliver

    case = services.create_case(
        requester=cast["requester"], service=service, title="Skriver", origin=ChangeOrigin.by_user(cast["requester"])
    )
    deliver()
    (sent,) = mail.outbox
    mail.outbox.clear()
    maildir.add(msgs.bounce(sent.message()).as_bytes())
    JOBS["cases.intake"].func()
    rows = {row.channel: row for row in notify.deliveries_for(case)}
    assert rows["email"].bounced_at is not None and "5.1.1" in rows["email"].bounce_reason
    assert rows["portal"].bounced_at is None
    assert mail.outbox == [] and IntakeRecord.objects.get().action == "ignored"
