"""The e-mail intake wired into cases: replies by e-mail become public replies, mail to the desk opens cases.

:mod:`kompass.cases.intake` parses, classifies and reads mailboxes without knowing any model; this module is
the cases side of it (see ``docs/email-intake.md``):

* :class:`IntakeHandler` turns one :class:`~kompass.cases.intake.InboundMessage` into a public reply
  (:func:`~kompass.cases.services.add_reply`) or a new case (:func:`~kompass.cases.services.create_case`),
  with an e-mail origin, or a refusal (the intake sends the bilingual bounce). It writes the message's
  :class:`~kompass.cases.models.IntakeRecord` **in the same transaction** as the reply or case.
* :class:`CaseSeenStore` answers "already processed?" from those rows (and the unique ``source_message_id``
  columns of replies and cases), so a crash after the commit and before the mailbox is marked never posts
  twice, and a crash before the commit leaves nothing behind: the next run posts the message once.
* :func:`run_intake` is one run against the configured mailbox (the scheduled job ``cases.intake``), under a
  lease so two runs never overlap.
* :func:`reply_headers` are the headers of a requester's notification that let their reply find the case.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kompass.cases import notify, services
from kompass.cases.attachments import MAX_ATTACHMENTS, Upload, check_upload
from kompass.cases.intake import (
    Action,
    InboundMessage,
    Outcome,
    RunReport,
    find_reply_reference,
    notification_headers,
    open_mailbox,
    process_mailbox,
)
from kompass.cases.models import Case, IntakeRecord, Reply
from kompass.cases.services import CaseError, ChangeOrigin
from kompass.cases.signals import intake_message
from kompass.core.models import SchedulerLease, Service, User

__all__ = ["CaseSeenStore", "IntakeHandler", "is_participant", "reply_headers", "run_intake"]

logger = logging.getLogger(__name__)

#: Headers of :func:`notification_headers` the notifications ledger sets itself.
_LEDGER_HEADERS = {"message-id", "auto-submitted"}
LEASE_NAME = "cases.intake"
#: The intake's lease: short, and renewed after every message, so a crashed run blocks the next one for at most
#: this long (it was 10 minutes, not renewed).
LEASE_SECONDS = 60
#: Messages per run, so one run stays short (the rest wait for the next run).
RUN_LIMIT = 100


# ---------------------------------------------------------------------------------------------
# Outgoing: the headers that let a reply find its case
# ---------------------------------------------------------------------------------------------


def reply_headers(case: Case, recipient) -> dict[str, str]:
    """Headers for a notification about ``case`` to ``recipient``: a signed reply address (only while the
    intake reads a mailbox), the thread root with the token, and the loop markers."""
    address = settings.KOMPASS_INTAKE_ADDRESS
    if not address or not getattr(recipient, "email", ""):
        return {"X-Kompass-Case": case.number}
    headers = {
        name: value
        for name, value in notification_headers(case.number, recipient.email, desk_address=address).items()
        if name.lower() not in _LEDGER_HEADERS
    }
    if not settings.KOMPASS_INTAKE_MAILBOX:
        headers.pop("Reply-To", None)  # nobody reads the desk's mailbox: replies go to the From as usual
    return headers


# ---------------------------------------------------------------------------------------------
# Incoming: who is who
# ---------------------------------------------------------------------------------------------


def _user(address: str | None):
    if not address:
        return None
    return User.objects.filter(email__iexact=address.strip(), is_active=True).first()


def is_participant(reference: str, address: str) -> bool:
    """Whether ``address`` is the requester or a watcher of case ``reference`` (an active user)."""
    people = Q(requester__email__iexact=address) | Q(watchers__email__iexact=address)
    return Case.objects.filter(people, number=reference.upper()).exists() and _user(address) is not None


def _service_for(user) -> Service | None:
    if settings.KOMPASS_INTAKE_SERVICE:
        return Service.objects.filter(name=settings.KOMPASS_INTAKE_SERVICE, active=True).first()
    agency = getattr(user, "home_agency", None)
    if agency is not None:
        service = agency.services.filter(active=True).order_by("name").first()
        if service is not None:
            return service
    return Service.objects.filter(active=True).order_by("name").first()


def _attachments(message: InboundMessage) -> tuple[list[Upload], list[str]]:
    """The attachments that pass the cases checks (size, type on the content, count), and the names refused."""
    kept: list[Upload] = []
    refused: list[str] = []
    for attachment in message.attachments:
        upload = Upload(attachment.filename, attachment.content)
        try:
            check_upload(upload)
        except CaseError:
            refused.append(attachment.filename)
            continue
        if len(kept) >= MAX_ATTACHMENTS:
            refused.append(attachment.filename)
            continue
        kept.append(upload)
    return kept, refused


def _with_refusals(text: str, refused: list[str], user) -> str:
    if not refused:
        return text
    with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
        note = _("Attachments not accepted (type or size): %(names)s") % {"names": ", ".join(refused)}
    return f"{text}\n\n[{note}]"


def _without_bad_files(post, uploads: list[Upload], refused: list[str]) -> None:
    """``post(uploads, refused)``; if a file is refused only while storing (the virus scan), post again without
    the files, naming them: the message itself is never lost over an attachment."""
    try:
        post(uploads, refused)
    except CaseError as error:
        if not uploads or not error.code.startswith("attachment_"):
            raise
        post([], refused + [upload.name for upload in uploads])


# ---------------------------------------------------------------------------------------------
# The handler
# ---------------------------------------------------------------------------------------------


class IntakeHandler:
    """``handler(message) -> Outcome`` for :func:`~kompass.cases.intake.process_mailbox`, for one mailbox."""

    def __init__(self, mailbox: str) -> None:
        self.mailbox = mailbox

    def __call__(self, message: InboundMessage) -> Outcome:
        if message.sender is None:
            return Outcome.refused("unknown_sender")
        claimed = self._claimed(message)
        if claimed is not None:
            return claimed
        lookup = find_reply_reference(message, is_participant=is_participant)
        try:
            if lookup.match is not None:
                return self._reply(message, lookup.match.reference)
            if lookup.refused:
                return Outcome.refused("unverified_reply")
            return self._new_case(message)
        except IntegrityError:
            # The unique Message-ID (of the reply, the case or this mailbox's record): a concurrent or earlier
            # run committed this message already. Nothing was changed by this attempt.
            logger.info("Intake %s: %s was already posted", self.mailbox, message.message_id)
            return Outcome(Action.DUPLICATE)

    def _claimed(self, message: InboundMessage) -> Outcome | None:
        """Another app's message (``intake_message``: e.g. a vendor's reply to the e-mail bonding), handled by
        its receiver and recorded here in the same transaction; ``None`` when no receiver claims it."""
        if not intake_message.receivers:
            return None
        with transaction.atomic():
            for _receiver, reference in intake_message.send(sender=IntakeRecord, message=message):
                if reference:
                    outcome = Outcome.reply_posted(str(reference))
                    self._record(message, outcome)
                    return outcome
        return None

    def _record(self, message: InboundMessage, outcome: Outcome) -> None:
        IntakeRecord.objects.update_or_create(
            mailbox=self.mailbox,
            message_id=message.message_id,
            defaults={"done": True, "action": outcome.action, "reference": outcome.reference, "reason": ""},
        )

    def _reply(self, message: InboundMessage, reference: str) -> Outcome:
        case = Case.objects.filter(number=reference).first()
        user = _user(message.sender.address)
        if case is None:
            return Outcome.refused("not_accepted")
        if user is None:
            return Outcome.refused("unknown_sender")
        if case.state in (Case.State.CLOSED, Case.State.CANCELLED):
            return Outcome.refused("case_closed")
        uploads, refused = _attachments(message)
        text = message.new_text.strip() or message.text.strip()
        if not text and uploads:
            with translation.override(user.language or settings.LANGUAGE_CODE):
                text = _("(No text; see the attachments.)")
        if not text:
            return Outcome.ignored("empty message")
        outcome = Outcome.reply_posted(case.number)

        def post(files, not_taken):
            with transaction.atomic():
                services.add_reply(
                    case,
                    _with_refusals(text, not_taken, user),
                    origin=ChangeOrigin.by_email(user, message.message_id),
                    attachments=files,
                    source_message_id=message.message_id,
                    full_text=message.text,
                )
                self._record(message, outcome)

        try:
            _without_bad_files(post, uploads, refused)
        except PermissionDenied:
            return Outcome.refused("unverified_reply")
        except CaseError as error:
            if error.code == "closed":
                return Outcome.refused("case_closed")
            raise
        return outcome

    def _new_case(self, message: InboundMessage) -> Outcome:
        user = _user(message.sender.address)
        if user is None:
            return Outcome.refused("unknown_sender")
        service = _service_for(user)
        if service is None:
            raise RuntimeError("No active service in the catalogue for cases opened by e-mail")
        uploads, refused = _attachments(message)
        with translation.override(user.language or settings.LANGUAGE_CODE):
            title = message.subject.strip() or _("(no subject)")
        opened = []

        def post(files, not_taken):
            with transaction.atomic():
                case = services.create_case(
                    requester=user,
                    service=service,
                    title=title,
                    description=_with_refusals(message.text.strip(), not_taken, user),
                    source=Case.Source.EMAIL,
                    attachments=files,
                    source_message_id=message.message_id,
                    origin=ChangeOrigin.by_email(user, message.message_id),
                )
                opened.append(Outcome.case_opened(case.number))
                self._record(message, opened[-1])

        try:
            _without_bad_files(post, uploads, refused)
        except PermissionDenied:
            return Outcome.refused("not_accepted")
        except CaseError as error:
            logger.info("Intake %s: %s refused: %s", self.mailbox, message.message_id, error.code)
            return Outcome.refused("not_accepted")
        return opened[-1]


# ---------------------------------------------------------------------------------------------
# The seen store
# ---------------------------------------------------------------------------------------------


class CaseSeenStore:
    """The intake's :class:`~kompass.cases.intake.SeenStore` on :class:`IntakeRecord` rows of one mailbox."""

    def __init__(self, mailbox: str) -> None:
        self.mailbox = mailbox

    def already_processed(self, message_id: str) -> bool:
        return (
            IntakeRecord.objects.filter(mailbox=self.mailbox, message_id=message_id, done=True).exists()
            or Reply.objects.filter(source_message_id=message_id).exists()
            or Case.objects.filter(source_message_id=message_id).exists()
        )

    def remember(self, message_id: str, outcome: Outcome) -> None:
        IntakeRecord.objects.update_or_create(
            mailbox=self.mailbox,
            message_id=message_id[:500],
            defaults={
                "done": True,
                "action": str(outcome.action),
                "reference": outcome.reference[:30],
                "reason": outcome.reason[:500],
            },
        )

    def record_failure(self, message_id: str, error: str) -> int:
        record, _created = IntakeRecord.objects.get_or_create(mailbox=self.mailbox, message_id=message_id[:500])
        IntakeRecord.objects.filter(pk=record.pk).update(
            attempts=F("attempts") + 1, last_error=error[:4000], action=Action.FAILED, updated=timezone.now()
        )
        return IntakeRecord.objects.values_list("attempts", flat=True).get(pk=record.pk)


# ---------------------------------------------------------------------------------------------
# One run (the scheduled job)
# ---------------------------------------------------------------------------------------------


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _take_lease(holder: str) -> bool:
    now = timezone.now()
    SchedulerLease.objects.get_or_create(name=LEASE_NAME, defaults={"expires_at": now})
    return bool(
        SchedulerLease.objects.filter(name=LEASE_NAME)
        .filter(Q(holder=holder) | Q(expires_at__lte=now))
        .update(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=LEASE_SECONDS))
    )


def _renew_lease(holder: str) -> bool:
    """Push our lease's end out again; ``False`` when it is no longer ours (it expired and another run took it:
    this run then stops before its next message)."""
    return bool(
        SchedulerLease.objects.filter(name=LEASE_NAME, holder=holder, expires_at__gt=timezone.now()).update(
            expires_at=timezone.now() + timedelta(seconds=LEASE_SECONDS)
        )
    )


def _release_lease(holder: str) -> None:
    SchedulerLease.objects.filter(name=LEASE_NAME, holder=holder).update(expires_at=timezone.now())


def run_intake(url: str | None = None, *, password: str | None = None, limit: int | None = RUN_LIMIT):
    """Read the configured mailbox once (``KOMPASS_INTAKE_MAILBOX`` unless ``url``); ``None`` when the intake
    is off or another run holds the lease, else the :class:`~kompass.cases.intake.RunReport`."""
    url = settings.KOMPASS_INTAKE_MAILBOX if url is None else url
    if not url:
        return None
    holder = _holder()
    if not _take_lease(holder):
        logger.info("Intake: another run is still reading the mailbox")
        return None
    try:
        mailbox = open_mailbox(url, password=settings.KOMPASS_INTAKE_PASSWORD if password is None else password)
        report: RunReport = process_mailbox(
            mailbox,
            IntakeHandler(mailbox.name),
            seen_store=CaseSeenStore(mailbox.name),
            max_attempts=settings.KOMPASS_INTAKE_MAX_ATTEMPTS,
            own_addresses=[a for a in (settings.KOMPASS_INTAKE_ADDRESS, settings.DEFAULT_FROM_EMAIL) if a],
            bounce_from=settings.KOMPASS_INTAKE_ADDRESS or None,
            portal_url=settings.KOMPASS_CASES_SITE_URL.rstrip("/") + "/cases/portal/",
            limit=limit,
            on_bounce=notify.record_bounce,
            keep_going=lambda: _renew_lease(holder),
        )
    finally:
        _release_lease(holder)
    if report.items:
        logger.info("Intake %s: %s", report.mailbox, report.counts)
    return report
