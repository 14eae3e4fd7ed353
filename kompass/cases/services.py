"""Every change to a case, as plain functions used by views, the API, e-mail intake and the vendor sync.

Each function takes an :class:`ChangeOrigin` (a user, an e-mail, a vendor link or the system), checks the access
matrix when a person acts, changes the case in one transaction, stores a :class:`~kompass.cases.models.CaseChange`
row and sends :data:`~kompass.cases.signals.case_changed` inside that transaction, so a receiver's own rows (the
vendor outbox) commit or roll back with the change. Refusals raise :class:`CaseError` (``code`` and ``status``:
400 for bad input, 409 for a state that does not allow it) or ``PermissionDenied``, and change nothing.

::

    from kompass.cases import services
    from kompass.cases.services import ChangeOrigin

    case = services.create_case(requester=user, service=service, title="Skriveren virker ikke",
                                origin=ChangeOrigin.by_user(user))
    services.transition(case, Case.State.IN_PROGRESS, origin=ChangeOrigin.by_user(agent))
    services.add_reply(case, "Vi ser på det.", origin=ChangeOrigin.by_user(agent))
    services.transition(case, Case.State.RESOLVED, resolution="Byttet toner.", origin=ChangeOrigin.by_user(agent))
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _

from kompass.cases import clocks, notify, search
from kompass.cases.attachments import store_attachments
from kompass.cases.models import Case, CaseChange, CaseCounter, Note, Origin, Reply
from kompass.cases.signals import case_changed
from kompass.cases.sla import OSLO_OFFICE_HOURS, ClockKind
from kompass.core import access, audit

__all__ = [
    "TRANSITIONS",
    "CaseError",
    "ChangeOrigin",
    "add_note",
    "add_reply",
    "allowed_transitions",
    "assign",
    "auto_close_resolved",
    "change_priority",
    "create_case",
    "link_parent",
    "mark_duplicate",
    "next_number",
    "rate",
    "refresh_sla",
    "reopen",
    "transition",
    "update_details",
]

State = Case.State

#: Legal moves between states (reopening a closed case is :func:`reopen`).
TRANSITIONS: dict[str, frozenset[str]] = {
    State.NEW: frozenset(
        {State.IN_PROGRESS, State.WAITING_FOR_REQUESTER, State.WAITING_FOR_VENDOR, State.RESOLVED, State.CANCELLED}
    ),
    State.IN_PROGRESS: frozenset(
        {State.WAITING_FOR_REQUESTER, State.WAITING_FOR_VENDOR, State.RESOLVED, State.CANCELLED}
    ),
    State.WAITING_FOR_REQUESTER: frozenset(
        {State.IN_PROGRESS, State.WAITING_FOR_VENDOR, State.RESOLVED, State.CANCELLED}
    ),
    State.WAITING_FOR_VENDOR: frozenset(
        {State.IN_PROGRESS, State.WAITING_FOR_REQUESTER, State.RESOLVED, State.CANCELLED}
    ),
    State.RESOLVED: frozenset({State.CLOSED, State.IN_PROGRESS}),
    State.CLOSED: frozenset(),
    State.CANCELLED: frozenset(),
}

#: The moves a requester (or an agency contact acting for the agency) may make without "work": confirm or
#: reject a resolution, withdraw an open case.
RESPONDER_TRANSITIONS = {
    (State.RESOLVED, State.CLOSED),
    (State.RESOLVED, State.IN_PROGRESS),
    *((state, State.CANCELLED) for state in Case.OPEN_STATES),
}


class CaseError(ValueError):
    """A refused change, with a message for the user; ``status`` 400 (bad input) or 409 (wrong state)."""

    def __init__(self, message: str, *, code: str, status: int = 400):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


@dataclass(frozen=True)
class ChangeOrigin:
    """Who or what makes a change. ``ref`` names the vendor link or the e-mail's Message-ID."""

    kind: str
    user: object | None = None
    ref: str = ""
    name: str = ""
    #: Checked against the matrix (a person in the UI or API); e-mail, vendor and system origins are
    #: trusted callers that verified the sender themselves.
    checked: bool = field(default=True)

    @classmethod
    def by_user(cls, user) -> ChangeOrigin:
        return cls(Origin.USER, user=user)

    @classmethod
    def by_email(cls, user, message_id: str = "") -> ChangeOrigin:
        return cls(Origin.EMAIL, user=user, ref=message_id)

    @classmethod
    def by_vendor(cls, link: str, name: str = "") -> ChangeOrigin:
        return cls(Origin.VENDOR, ref=link, name=name, checked=False)

    @classmethod
    def by_system(cls) -> ChangeOrigin:
        return cls(Origin.SYSTEM, checked=False)

    def require(self, action: str, obj) -> None:
        """Refuse (``PermissionDenied``) a person whom the matrix does not allow ``action`` on ``obj``."""
        if self.checked and not access.can(self.user, action, obj):
            raise PermissionDenied(_("You may not do this."))

    def may(self, action: str, obj) -> bool:
        return not self.checked or access.can(self.user, action, obj)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def next_number(at: datetime) -> str:
    """The next case number of ``at``'s year in Europe/Oslo: ``KOM-2026-000123``. Call inside a transaction.

    One ``UPDATE … SET last = last + 1 … RETURNING last`` on the year's row (one round trip; SQLite ≥ 3.35 and
    PostgreSQL): the row lock held until commit makes concurrent creators wait for each other (PostgreSQL);
    SQLite serialises writing transactions. :func:`create_case` takes the number after its reads and checks,
    so the lock is held only for the case's own writes.
    """
    year = at.astimezone(ZoneInfo(settings.TIME_ZONE)).year
    last = _bump_counter(year)
    if last is None:
        try:
            with transaction.atomic():
                CaseCounter.objects.create(year=year, last=1)
            last = 1
        except IntegrityError:  # another transaction made the row first: bump it instead
            last = _bump_counter(year)
    return f"KOM-{year}-{last:06d}"


def _bump_counter(year: int) -> int | None:
    table = connection.ops.quote_name(CaseCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last", [year])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


def _record(
    case: Case,
    kind: str,
    origin: ChangeOrigin,
    detail: dict | None = None,
    *,
    internal=False,
    new=False,
    text: str | None = None,
) -> CaseChange:
    change = CaseChange.objects.create(
        case=case,
        kind=kind,
        origin=origin.kind,
        origin_ref=origin.ref[:200],
        actor=origin.user,
        detail=detail or {},
        internal=internal,
    )
    # --- workspace search (issue #8.8): the case's search document follows the change, in its transaction ---
    search.on_change(case, kind, new=new, text=text)  # text: a new reply's or note's, appended
    # --- end workspace search ---
    case_changed.send(sender=Case, case=case, change=change, origin=origin)
    return change


def _refresh_and_save(case: Case, now: datetime) -> list[str]:
    flags = clocks.refresh(case, now)
    if case.__dict__.get("_kompass_saved") is None:
        case.save()
    else:
        case.__dict__["_kompass_unsaved"] = True  # held: saved (and audited) once, when the block ends
    return flags


#: Column values a later change of the case cannot alter in place (a JSON value can: it is copied).
_IMMUTABLE = frozenset({str, int, float, bool, type(None), datetime, date, time, timedelta, Decimal, UUID})


def _snapshot(case: Case) -> Case:
    """A detached copy of the case's column values (what the row holds after a save), for the audit diff."""
    copy = Case.__new__(Case)
    values = case.__dict__
    copy.__dict__.update(
        {
            f.attname: value if type(value) in _IMMUTABLE else deepcopy(value)  # deepcopy only what can change
            for f in Case._meta.concrete_fields
            if f.attname in values
            for value in (values[f.attname],)
        }
    )
    copy._state = ModelState()
    copy._state.adding, copy._state.db = False, case._state.db
    return copy


def _save_held(case: Case, before: Case) -> None:
    """Save a held case with the audit entry auditlog's own ``pre_save`` receiver writes, diffed against the
    copy of the row kept in memory instead of a re-read of it (the row is locked and was last written by us)."""
    from auditlog.context import auditlog_disabled, disable_auditlog
    from auditlog.models import LogEntry
    from auditlog.receivers import _create_log_entry

    if not auditlog_disabled.get(False):  # the caller turned auditing off: as auditlog's receiver would
        _create_log_entry(
            action=LogEntry.Action.UPDATE,
            instance=case,
            sender=Case,
            diff_old=before,
            diff_new=case,
            use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
        )
    with disable_auditlog():
        case.save(update_fields=_changed_fields(case, before))
    case.__dict__["_kompass_saved"] = _snapshot(case)


def _changed_fields(case: Case, before: Case) -> list[str]:
    """The columns of ``case`` that differ from the copy of its row, and ``updated`` (``auto_now``): the held case's
    save writes only these (the row is locked and was last written by us, so the others hold what the copy holds)."""
    now, then = case.__dict__, before.__dict__
    return [
        f.attname
        for f in Case._meta.concrete_fields
        if not f.primary_key
        and f.attname in now
        and (getattr(f, "auto_now", False) or f.attname not in then or now[f.attname] != then[f.attname])
    ]


def _flush_held(case: Case) -> None:
    """Write the held case's changes not saved yet, with their one audit entry."""
    if case.__dict__.pop("_kompass_unsaved", False):
        _save_held(case, case.__dict__["_kompass_saved"])


def _settle(case: Case, *, joins: bool = False) -> None:
    """Before a change of a case held by :func:`held` (outside the change's own savepoint, so a refused change
    cannot roll back the save of the ones before it): a change that ``joins`` (it saves through
    ``_refresh_and_save``) adds its fields to the one save of the block, unless a state change is already waiting
    there (a second move is audited as its own entry); any other change saves what waits first."""
    if case.__dict__.get("_kompass_held") and (not joins or case.state != case.__dict__["_kompass_saved"].state):
        _flush_held(case)


def _locked(case: Case) -> Case:
    """The case re-read under a row lock (PostgreSQL), so two changes of one case never interleave. Inside
    :func:`held` the caller already has it fresh and locked: nothing is read again."""
    if case.__dict__.get("_kompass_held"):
        return case
    fresh = Case.objects.select_for_update().get(pk=case.pk)
    case.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
    return case


def _change_block(case: Case, *, files=()):
    """The transaction of one change (a savepoint inside the caller's, so a refused change leaves it as it was).
    Inside :func:`held` a change without files needs none of its own (two round trips less): the caller's
    transaction is open, the case is locked and read, and every refusal of such a change (its permission, a closed
    case) comes before its first write, so a refusal has nothing to roll back (the caller may go on, e.g. with a
    note instead). A file can be refused after the reply is written: with files, the savepoint stays."""
    if case.__dict__.get("_kompass_held") and not files:
        return nullcontext()
    return transaction.atomic()


@contextmanager
def held(case: Case):
    """Several changes of ``case`` in one transaction whose caller has already read ``case`` under a row lock
    (``select_for_update``, e.g. joined to a locked row of its own): the changes in the block skip their own
    locked re-read of the case (one query each), and a reply, a state change and a priority change made in it
    are written by one save of the case with one audit entry holding all their fields, when the block ends
    (each change keeps its own change row; a second state change in the block saves the first one's before it).
    ``case`` must be that fresh instance, and the caller's transaction must stay open around the whole block, so
    the lock is held throughout; a block left by an exception saves nothing (its transaction rolls back)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("held() needs the transaction in which the case was locked.")
    case.__dict__["_kompass_held"] = True
    case.__dict__["_kompass_saved"] = _snapshot(case)
    try:
        yield case
        _flush_held(case)
    finally:
        case.__dict__.pop("_kompass_held", None)
        case.__dict__.pop("_kompass_saved", None)
        case.__dict__.pop("_kompass_unsaved", None)


def _requester_side(case: Case) -> list:
    return [case.requester, *case.watchers.all()]


def _is_requester_side(case: Case, user) -> bool:
    return user is not None and (user.pk == case.requester_id or case.watchers.filter(pk=user.pk).exists())


def _reply_headers(case: Case) -> dict:
    return {"X-Kompass-Case": case.number}


# ---------------------------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------------------------


def create_case(
    *,
    requester,
    service,
    title: str,
    origin: ChangeOrigin,
    description: str = "",
    agency=None,
    type: str = Case.Type.INCIDENT,
    impact: int = 3,
    urgency: int = 3,
    system=None,
    category: str = "",
    source: str | None = None,
    watchers=(),
    attachments=(),
    source_message_id: str | None = None,
) -> Case:
    """Register a case. The agency defaults to the requester's home agency; priority comes from the matrix."""
    title = (title or "").strip()
    if not title:
        raise CaseError(_("A case needs a title."), code="title_required")
    agency = agency or getattr(requester, "home_agency", None)
    if agency is None:
        raise CaseError(_("The requester belongs to no agency; choose the agency."), code="agency_required")
    if system is not None and system.agency_id != agency.pk:
        raise CaseError(_("The system belongs to another agency."), code="system_agency")
    if not service.active:
        raise CaseError(_("This service is no longer offered."), code="service_inactive")
    try:
        priority = clocks.compute_priority(impact, urgency)
    except ValueError:
        raise CaseError(_("Impact and urgency must each be 1, 2 or 3."), code="impact_urgency") from None
    if type not in Case.Type.values:
        raise CaseError(_("Unknown case type."), code="type")
    now = _now()
    case = Case(
        requester=requester,
        agency=agency,
        service=service,
        system=system,
        title=title[:200],
        description=description or "",
        type=type,
        impact=impact,
        urgency=urgency,
        priority=priority,
        category=category,
        source=source or _default_source(origin),
        source_message_id=source_message_id,
        created=now,
    )
    origin.require("create", case)
    if origin.checked and origin.user.pk != requester.pk and not access.can(origin.user, "work", case):
        raise PermissionDenied(_("You may register cases only in your own name."))
    # Pure work first (the clocks), then the number: the counter row stays locked only for the writes.
    clocks.start_clocks(case, now)
    clocks.refresh(case, now)
    with transaction.atomic():
        case.number = next_number(now)
        audit.save_created(case, force_insert=True)  # its audit entry built from the case in memory
        if watchers:
            case.watchers.set(watchers)
        store_attachments(case, attachments, uploaded_by=origin.user)
        change = _record(case, "created", origin, {"number": case.number}, new=not attachments)
        notify.send(
            "cases.received",
            case=case,
            recipients=[requester],
            key=f"case:{case.pk}:received:{change.pk}",
            headers=_reply_headers(case),
            fresh_key=True,  # the change row was made just above, in this transaction
        )
    return case


def _default_source(origin: ChangeOrigin) -> str:
    return {
        Origin.EMAIL: Case.Source.EMAIL,
        Origin.VENDOR: Case.Source.VENDOR,
        Origin.SYSTEM: Case.Source.API,
    }.get(origin.kind, Case.Source.PORTAL)


def update_details(case: Case, *, origin: ChangeOrigin, **fields) -> Case:
    """Change the title, description, category or watchers (the matrix's ``change``)."""
    allowed = {"title", "description", "category", "watchers"}
    unknown = set(fields) - allowed
    if unknown:
        raise CaseError(
            _("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code="fields",
        )
    if "title" in fields and not (fields["title"] or "").strip():
        raise CaseError(_("A case needs a title."), code="title_required")
    _settle(case)
    with transaction.atomic():
        _locked(case)
        origin.require("change", case)
        watchers = fields.pop("watchers", None)
        before = {name: getattr(case, name) for name in fields}
        for name, value in fields.items():
            setattr(case, name, value.strip() if isinstance(value, str) else value)
        case.save()
        if watchers is not None:
            case.watchers.set(watchers)
        _record(case, "details", origin, {"fields": sorted([*before, *(["watchers"] if watchers is not None else [])])})
    return case


# ---------------------------------------------------------------------------------------------
# States
# ---------------------------------------------------------------------------------------------


def allowed_transitions(case: Case, user) -> list[str]:
    """The states ``user`` may move ``case`` to now (for the UI's buttons)."""
    origin = ChangeOrigin.by_user(user)
    return [to for to in TRANSITIONS[case.state] if _may_transition(case, to, origin)]


def _may_transition(case: Case, to: str, origin: ChangeOrigin) -> bool:
    if origin.may("work", case):
        return True
    return (case.state, to) in RESPONDER_TRANSITIONS and origin.may("respond", case)


def transition(case: Case, to: str, *, origin: ChangeOrigin, resolution: str = "", reason: str = "") -> Case:
    """Move ``case`` to state ``to``; illegal moves raise :class:`CaseError` (409) and change nothing."""
    if to not in State.values:
        raise CaseError(_("Unknown state."), code="unknown_state")
    _settle(case, joins=True)
    with transaction.atomic():
        _locked(case)
        before = case.state
        if to == before:
            raise CaseError(_("The case is already in this state."), code="same_state", status=409)
        if to not in TRANSITIONS[before]:
            raise CaseError(
                _("A case that is %(from)s cannot become %(to)s.")
                % {"from": State(before).label.lower(), "to": State(to).label.lower()},
                code="illegal_transition",
                status=409,
            )
        origin.require("view", case)
        if not _may_transition(case, to, origin):
            raise PermissionDenied(_("You may not do this."))
        if to == State.RESOLVED and not (resolution or "").strip():
            raise CaseError(_("Say how the case was resolved."), code="resolution_required")
        now = _now()
        _apply_state(case, before, to, now, resolution=resolution)
        flags = _refresh_and_save(case, now)
        change = _record(case, "state", origin, {"from": before, "to": to, "reason": reason[:500]})
        _notify_state(case, to, change)
        _notify_flags(case, flags, change)
    return case


def _apply_state(case: Case, before: str, to: str, now: datetime, *, resolution: str = "") -> None:
    case.state = to
    if before == State.NEW and to != State.CANCELLED:
        clocks.update_clock(case, ClockKind.RESPONSE, "stop", now)
        case.responded_at = case.responded_at or now
    if to == State.WAITING_FOR_REQUESTER:
        clocks.update_clock(case, ClockKind.RESOLUTION, "pause", now)
    elif before == State.WAITING_FOR_REQUESTER:
        clocks.update_clock(case, ClockKind.RESOLUTION, "resume", now)
    if to == State.RESOLVED:
        clocks.update_clock(case, ClockKind.RESOLUTION, "stop", now)
        case.resolved_at, case.resolution = now, resolution.strip()
    elif to == State.CANCELLED:
        clocks.update_clock(case, ClockKind.RESPONSE, "stop", now, cancelled=True)
        clocks.update_clock(case, ClockKind.RESOLUTION, "stop", now, cancelled=True)
        case.closed_at = now
    elif to == State.CLOSED:
        case.closed_at = now
    elif before == State.RESOLVED and to == State.IN_PROGRESS:  # the requester rejected the resolution
        clocks.restart_resolution(case, now)
        case.resolved_at = None


def _notify_state(case: Case, to: str, change: CaseChange) -> None:
    event = {
        State.WAITING_FOR_REQUESTER: "cases.needs_info",
        State.RESOLVED: "cases.resolved",
        State.CLOSED: "cases.closed",
    }.get(to)
    if event:
        notify.send(
            event,
            case=case,
            recipients=_requester_side(case),
            key=f"case:{case.pk}:{event.removeprefix('cases.')}:{change.pk}",
            context=_resolution_context(case, change) if to == State.RESOLVED else {},
            headers=_reply_headers(case),
            fresh_key=True,  # keyed by the change row inserted just now
        )


def _resolution_context(case: Case, change: CaseChange) -> dict:
    from kompass.cases.links import resolution_links

    return {"resolution": case.resolution, "links": resolution_links(case, change)}


def _notify_flags(case: Case, flags: list[str], change: CaseChange | None) -> None:
    # Keyed by the deadline, so the scheduled refresh and a change that flips the same flag send once.
    for flag in flags:
        event = "cases.sla_warning" if flag == "resolution_warning" else "cases.sla_breached"
        due = case.response_due if flag == "response_breached" else case.resolution_due
        stamp = due.strftime("%Y%m%dT%H%M%S") if due else "none"
        notify.send(event, case=case, recipients=[case.assignee], key=f"case:{case.pk}:{flag}:{stamp}")


def reopen(case: Case, *, origin: ChangeOrigin, reason: str = "") -> Case:
    """Reopen a resolved case, or a closed one within ``KOMPASS_CASES_REOPEN_DAYS``: a new resolution clock."""
    _settle(case, joins=True)
    with transaction.atomic():
        _locked(case)
        origin.require("view", case)
        if not (origin.may("work", case) or origin.may("respond", case)):
            raise PermissionDenied(_("You may not do this."))
        now = _now()
        if case.state == State.CLOSED:
            window = timedelta(days=settings.KOMPASS_CASES_REOPEN_DAYS)
            if case.closed_at is None or now - case.closed_at > window:
                raise CaseError(
                    _("The case was closed more than %(days)s days ago; register a new case instead.")
                    % {"days": settings.KOMPASS_CASES_REOPEN_DAYS},
                    code="reopen_window",
                    status=409,
                )
        elif case.state != State.RESOLVED:
            raise CaseError(_("Only a resolved or closed case can be reopened."), code="not_reopenable", status=409)
        before = case.state
        case.state, case.resolved_at, case.closed_at = State.IN_PROGRESS, None, None
        clocks.restart_resolution(case, now)
        _refresh_and_save(case, now)
        _record(case, "reopened", origin, {"from": before, "reason": reason[:500]})
    return case


def auto_close_resolved() -> int:
    """Close cases resolved more than ``KOMPASS_CASES_AUTO_CLOSE_WORKING_DAYS`` working days ago (a schedule)."""
    now = _now()
    days = settings.KOMPASS_CASES_AUTO_CLOSE_WORKING_DAYS
    closed = 0
    candidates = Case.objects.filter(state=State.RESOLVED, resolved_at__lte=now - timedelta(days=days))
    for pk in candidates.values_list("pk", flat=True).iterator():
        case = Case.objects.get(pk=pk)
        if OSLO_OFFICE_HOURS.add_working_days(case.resolved_at, days) > now:
            continue
        try:
            transition(case, State.CLOSED, origin=ChangeOrigin.by_system(), reason="auto_close")
        except CaseError:  # changed meanwhile (reopened): nothing to do
            continue
        closed += 1
    return closed


# ---------------------------------------------------------------------------------------------
# Conversation
# ---------------------------------------------------------------------------------------------


def add_reply(
    case: Case,
    text: str,
    *,
    origin: ChangeOrigin,
    attachments=(),
    source_message_id: str | None = None,
    full_text: str = "",
    author_name: str = "",
) -> Reply:
    """A public reply. The requester's reply resumes a case waiting for them; an agent's first one responds."""
    text = (text or "").strip()
    if not text:
        raise CaseError(_("Write a reply."), code="text_required")
    _settle(case, joins=True)
    with _change_block(case, files=attachments):
        _locked(case)
        reply = Reply(case=case, author=origin.user, author_name=author_name[:200], text=text, origin=origin.kind)
        origin.require("create", reply)
        if case.state in (State.CLOSED, State.CANCELLED):
            raise CaseError(_("The case is closed; reopen it or register a new case."), code="closed", status=409)
        reply.source_message_id, reply.full_text = source_message_id, full_text
        reply.save()
        store_attachments(case, attachments, uploaded_by=origin.user, reply=reply)
        now = _now()
        from_requester = origin.kind != Origin.VENDOR and _is_requester_side(case, origin.user)
        if from_requester and case.state == State.WAITING_FOR_REQUESTER:
            _apply_state(case, case.state, State.IN_PROGRESS, now)
        elif not from_requester and origin.kind != Origin.SYSTEM:
            clocks.update_clock(case, ClockKind.RESPONSE, "stop", now)
            case.responded_at = case.responded_at or now
        flags = _refresh_and_save(case, now)
        change = _record(case, "reply", origin, {"reply": reply.pk}, text=reply.text)
        if from_requester:
            notify.send(
                "cases.requester_replied",
                case=case,
                recipients=[case.assignee],
                key=f"case:{case.pk}:requester_replied:{reply.pk}",
                fresh_key=True,  # the reply was inserted just now: no ledger row can hold its key
            )
        else:
            notify.send(
                "cases.replied",
                case=case,
                recipients=_requester_side(case),
                key=f"case:{case.pk}:replied:{reply.pk}",
                context={"reply_text": reply.text, "author": reply.author_label},
                headers=_reply_headers(case),
                fresh_key=True,
            )
        _notify_flags(case, flags, change)
    return reply


def add_note(
    case: Case, text: str, *, origin: ChangeOrigin, author_name: str = "", share_with_vendor: bool = False
) -> Note:
    """An internal note (never shown to requesters or agency roles, never e-mailed). ``share_with_vendor``
    marks it for the vendor's work notes (the vendors app's receiver sends it when the case is bonded)."""
    text = (text or "").strip()
    if not text:
        raise CaseError(_("Write a note."), code="text_required")
    with transaction.atomic():
        note = Note(
            case=case,
            author=origin.user,
            author_name=author_name[:200],
            text=text,
            origin=origin.kind,
            share_with_vendor=bool(share_with_vendor),
        )
        origin.require("create", note)
        note.save()
        case.updated = _now()  # the instance stays what the row says (a held case is not re-read)
        Case.objects.filter(pk=case.pk).update(updated=case.updated)
        detail = {"note": note.pk, "shared": True} if note.share_with_vendor else {"note": note.pk}
        _record(case, "note", origin, detail, internal=True, text=note.text)
    return note


# ---------------------------------------------------------------------------------------------
# Working the case
# ---------------------------------------------------------------------------------------------


def assign(case: Case, *, origin: ChangeOrigin, assignee=None, team: str | None = None) -> Case:
    """Give the case to a person (who must be able to work it) and/or a team; ``assignee=None`` unassigns."""
    _settle(case)
    with transaction.atomic():
        _locked(case)
        origin.require("work", case)
        if not case.is_open:
            raise CaseError(_("Only an open case can be assigned."), code="not_open", status=409)
        if assignee is not None and not access.can(assignee, "work", case):
            raise CaseError(_("This person cannot work on cases."), code="assignee")
        before = {"assignee": case.assignee_id, "team": case.team}
        case.assignee = assignee
        if team is not None:
            case.team = team.strip()[:100]
        case.save()
        change = _record(case, "assigned", origin, {"from": before, "assignee": case.assignee_id, "team": case.team})
        if assignee is not None and assignee.pk != before["assignee"] and assignee != origin.user:
            notify.send("cases.assigned", case=case, recipients=[assignee], key=f"case:{case.pk}:assigned:{change.pk}")
    return case


def change_priority(case: Case, *, origin: ChangeOrigin, impact: int, urgency: int) -> Case:
    """New impact and urgency: the priority from the matrix, and the running clocks recomputed from the start."""
    try:
        priority = clocks.compute_priority(impact, urgency)
    except ValueError:
        raise CaseError(_("Impact and urgency must each be 1, 2 or 3."), code="impact_urgency") from None
    _settle(case, joins=True)
    with transaction.atomic():
        _locked(case)
        origin.require("work", case)
        if not case.is_open:
            raise CaseError(_("Only an open case can change priority."), code="not_open", status=409)
        before = {"impact": case.impact, "urgency": case.urgency, "priority": case.priority}
        now = _now()
        case.impact, case.urgency = impact, urgency
        if priority != case.priority:
            case.priority = priority
            for kind in (ClockKind.RESPONSE, ClockKind.RESOLUTION):
                clocks.update_clock(case, kind, "priority_change", now, new_priority=priority)
        flags = _refresh_and_save(case, now)
        change = _record(
            case, "priority", origin, {"from": before, "impact": impact, "urgency": urgency, "priority": priority}
        )
        _notify_flags(case, flags, change)
    return case


def link_parent(case: Case, parent: Case | None, *, origin: ChangeOrigin) -> Case:
    """Attach ``case`` to a major incident (``parent``), or detach it with ``None``. One level only."""
    _settle(case)
    with transaction.atomic():
        _locked(case)
        origin.require("work", case)
        if parent is not None:
            origin.require("work", parent)
            if parent.pk == case.pk:
                raise CaseError(_("A case cannot be its own major incident."), code="self")
            if parent.parent_id is not None:
                raise CaseError(_("That case is itself part of a major incident."), code="nested")
            if case.children.exists():
                raise CaseError(_("This case is a major incident with cases of its own."), code="nested")
        before = case.parent_id
        case.parent = parent
        case.save()
        _record(case, "parent", origin, {"from": before, "to": parent.pk if parent else None})
    return case


def mark_duplicate(case: Case, original: Case, *, origin: ChangeOrigin) -> Case:
    """Mark ``case`` a duplicate of ``original`` and cancel it (its clocks stop without a verdict)."""
    _settle(case)
    with transaction.atomic():
        _locked(case)
        origin.require("work", case)
        origin.require("view", original)
        if original.pk == case.pk:
            raise CaseError(_("A case cannot duplicate itself."), code="self")
        if original.duplicate_of_id is not None:
            raise CaseError(_("That case is itself a duplicate."), code="chain")
        if not case.is_open:
            raise CaseError(_("Only an open case can be marked a duplicate."), code="not_open", status=409)
        now = _now()
        before = case.state
        case.duplicate_of = original
        _apply_state(case, before, State.CANCELLED, now)
        _refresh_and_save(case, now)
        _record(case, "duplicate", origin, {"of": original.pk, "from": before})
    return case


def rate(case: Case, rating: int, comment: str = "", *, origin: ChangeOrigin) -> Case:
    """The requester rates the handling of a closed case, once (1–5 and a comment)."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise CaseError(_("Give a rating from 1 to 5."), code="rating_range")
    _settle(case)
    with transaction.atomic():
        _locked(case)
        origin.require("rate", case)
        if case.state != State.CLOSED:
            raise CaseError(_("A case can be rated once it is closed."), code="not_closed", status=409)
        if case.rating is not None:
            raise CaseError(_("This case has already been rated."), code="already_rated", status=409)
        case.rating, case.rating_comment, case.rated_at = rating, (comment or "").strip()[:2000], _now()
        case.save()
        _record(case, "rated", origin, {"rating": rating})
    return case


def refresh_sla(now: datetime | None = None) -> int:
    """Recompute the SLA flags of the cases whose next flip has come (a schedule); notify agents of new flags."""
    now = now or _now()
    count = 0
    for pk in Case.objects.filter(sla_next_check__lte=now).values_list("pk", flat=True).iterator():
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=pk)
            flags = clocks.refresh(case, now)
            case.save(
                update_fields=[
                    "response_due",
                    "response_breached",
                    "response_breached_at",
                    "resolution_due",
                    "resolution_warning",
                    "resolution_breached",
                    "resolution_breached_at",
                    "sla_state",
                    "sla_next_check",
                    "updated",
                ]
            )
            _notify_flags(case, flags, None)
        count += 1
    return count


# --- Lookup by case number for other apps (the contract register's evidence, issue 9) ------------------------


def find_by_number(number: str, user) -> Case | None:
    """The case numbered ``number`` (``KOM-2026-000042``; spaces and letter case ignored) if ``user`` may see it.

    ``None`` when there is no such case or the matrix hides it from ``user``: the caller cannot tell the two
    apart, so a number reveals nothing about cases the user may not see.
    """
    number = (number or "").strip().upper()
    if not number:
        return None
    return Case.objects.restrict(user, "view").filter(number=number).first()


# --- For the portfolio (issue #12): a system's cases, as far as the viewer may see them ---------------------------


def cases_of_system(system, user, *, latest: int = 5) -> dict:
    """``{"open": n, "total": n, "latest_open": [Case, …]}`` of the cases about ``system`` that ``user`` sees."""
    from django.db.models import Count, Q

    visible = Case.objects.restrict(user, "view").filter(system=system)
    figures = visible.aggregate(open=Count("pk", filter=Q(state__in=Case.OPEN_STATES)), total=Count("pk"))
    figures["latest_open"] = list(visible.filter(state__in=Case.OPEN_STATES).order_by("-created")[:latest])
    return figures


# ---------------------------------------------------------------------------------------------
# Monthly figures per agency (read by the surveys app's side-by-side view and agency cockpit; issue #11)
# ---------------------------------------------------------------------------------------------
def monthly_agency_figures(agency_ids, start, end) -> dict:
    """``{(agency_id, first_of_month): figures}`` for the months from ``start`` to ``end`` (dates, inclusive).

    Per agency and month (Oslo time): ``incidents`` (incidents reported), and of the incidents *resolved*
    that month: ``sla_attainment`` (share resolved within their resolution SLA, of those with one),
    ``median_resolution_hours`` (wall-clock hours from report to resolution) and
    ``requester_informed_rate`` (share that had at least one public reply to the requester before
    resolution). A rate or median with nothing to measure is ``None``. Access is the caller's business.
    """
    import datetime as dt
    from statistics import median

    zone = ZoneInfo(settings.TIME_ZONE)
    lower = datetime.combine(start.replace(day=1), datetime.min.time(), tzinfo=zone)
    upper_month = end.replace(day=1) + timedelta(days=32)
    upper = datetime.combine(upper_month.replace(day=1), datetime.min.time(), tzinfo=zone)

    def month_of(moment) -> dt.date:
        return moment.astimezone(zone).date().replace(day=1)

    incidents = Case.objects.filter(agency_id__in=list(agency_ids), type=Case.Type.INCIDENT)
    figures: dict = {}

    def entry(key) -> dict:
        return figures.setdefault(key, {"incidents": 0, "_met": [], "_hours": [], "_informed": []})

    for agency_id, created in incidents.filter(created__gte=lower, created__lt=upper).values_list(
        "agency_id", "created"
    ):
        entry((agency_id, month_of(created)))["incidents"] += 1
    resolved = incidents.filter(resolved_at__gte=lower, resolved_at__lt=upper)
    informed = set(
        Reply.objects.filter(case__in=resolved, case__resolved_at__gt=F("created")).values_list("case_id", flat=True)
    )
    for pk, agency_id, created, resolved_at, due, breached in resolved.values_list(
        "pk", "agency_id", "created", "resolved_at", "resolution_due", "resolution_breached"
    ):
        row = entry((agency_id, month_of(resolved_at)))
        if due is not None:
            row["_met"].append(not breached)
        row["_hours"].append((resolved_at - created).total_seconds() / 3600)
        row["_informed"].append(pk in informed)
    for row in figures.values():
        met, hours, told = row.pop("_met"), row.pop("_hours"), row.pop("_informed")
        row["sla_attainment"] = round(sum(met) / len(met), 3) if met else None
        row["median_resolution_hours"] = round(median(hours), 1) if hours else None
        row["requester_informed_rate"] = round(sum(told) / len(told), 3) if told else None
    return figures


# ---------------------------------------------------------------------------------------------
# For the reports app (issue #13): calendars and the raw case facts of vendor performance
# ---------------------------------------------------------------------------------------------

#: The calendars a service level may be measured in (bilag 5's "service hours").
SERVICE_HOURS = ("24x7", "office")


def business_calendar(name: str):
    """The SLA engine's calendar for ``name``: ``"24x7"`` (wall-clock time) or ``"office"`` (08–16 Mon–Fri,
    Norwegian statutory holidays closed, Europe/Oslo, DST-correct). Unknown names are a ``ValueError``."""
    from kompass.cases.sla import TWENTY_FOUR_SEVEN

    calendars = {"24x7": TWENTY_FOUR_SEVEN, "office": OSLO_OFFICE_HOURS}
    if name not in calendars:
        raise ValueError(f"unknown service hours {name!r}")
    return calendars[name]


def performance_rows(service_ids, start: datetime, end: datetime, *, agency_ids=None):
    """The incidents of ``service_ids`` that were resolved in ``[start, end)`` or still open at ``end``: an iterator
    of tuples ``(id, service_id, priority, agency_id, created, responded_at, resolved_at)`` (one query, streamed).
    Access is the caller's business."""
    from django.db.models import Q

    rows = Case.objects.filter(service_id__in=list(service_ids), type=Case.Type.INCIDENT, created__lt=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=list(agency_ids))
    return (
        rows.values_list("pk", "service_id", "priority", "agency_id", "created", "responded_at", "resolved_at")
        .order_by()
        .iterator(chunk_size=5000)
    )


def vendor_resolution_times(start: datetime, end: datetime) -> dict[int, datetime]:
    """``{case_id: moment}``: when the vendor (through e-bonding) set a case resolved, for changes in ``[start, end)``
    (the last such change per case). Kompass's own ``resolved_at`` may differ (a later requester reply, a sync
    delay)."""
    moments: dict[int, datetime] = {}
    changes = CaseChange.objects.filter(
        origin=Origin.VENDOR, kind="state", created__gte=start, created__lt=end, detail__to=Case.State.RESOLVED
    ).values_list("case_id", "created")
    for case_id, created in changes.order_by("created"):
        moments[case_id] = created
    return moments


def case_ids_by_number(numbers) -> dict[str, int]:
    """``{number: id}`` of the cases with those numbers (unknown numbers are left out)."""
    return dict(Case.objects.filter(number__in=list(numbers)).values_list("number", "pk"))


def major_incidents(service_ids, start: datetime, end: datetime) -> list[dict]:
    """The major incidents (cases with cases attached) of ``service_ids`` open at some point in ``[start, end)``:
    ``number``, ``title``, ``service_id``, ``created``, ``resolved_at``, ``children``, ``priority``, ``pk``."""
    from django.db.models import Count, Q

    majors = (
        Case.objects.filter(service_id__in=list(service_ids), created__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .annotate(n=Count("children"))
        .filter(n__gt=0)
        .order_by("created")
    )
    return [
        {
            "pk": c.pk,
            "number": c.number,
            "title": c.title,
            "service_id": c.service_id,
            "priority": c.priority,
            "created": c.created,
            "resolved_at": c.resolved_at,
            "children": c.n,
        }
        for c in majors
    ]


def cases_by_ids(ids, user):
    """The cases with these ids that ``user`` may see (for a report's drill-down), newest first."""
    return (
        Case.objects.filter(pk__in=list(ids))
        .restrict(user, "view")
        .select_related("agency", "service")
        .order_by("-created")
    )


# ---------------------------------------------------------------------------------------------
# Attachments added to a case on their own (issue 10: a vendor's attachments; any caller's files)
# ---------------------------------------------------------------------------------------------
def add_attachments(case: Case, files, *, origin: ChangeOrigin, author_name: str = "") -> list:
    """Attach ``files`` (``Upload``s, uploaded files or e-mail parts) to the case itself, checked like every
    upload (size, type on the content, scan hook; one bad file refuses them all: ``CaseError``). Records one
    ``attachment`` change carrying the new attachments' pks, so other apps (the vendor sync) see them."""
    _settle(case)
    with transaction.atomic():
        _locked(case)
        origin.require("create", Reply(case=case))
        if case.state in (State.CLOSED, State.CANCELLED):
            raise CaseError(_("The case is closed; reopen it or register a new case."), code="closed", status=409)
        stored = store_attachments(case, list(files or ()), uploaded_by=origin.user)
        if not stored:
            return []
        Case.objects.filter(pk=case.pk).update(updated=_now())
        detail = {"attachments": [a.pk for a in stored]}
        if author_name:
            detail["by"] = author_name[:200]
        _record(case, "attachment", origin, detail)
    return stored


# ---------------------------------------------------------------------------------------------
# One e-mail through the intake (issue 10: the vendors' e-mail bonding and its tests)
# ---------------------------------------------------------------------------------------------
def receive_email(raw: bytes, *, mailbox: str = "direct") -> tuple[str, str]:
    """Read one raw RFC 5322 message through the e-mail intake exactly as a mailbox run does (parse, classify,
    hand it to other apps' ``intake_message`` receivers, else a requester's reply or a new case). Returns
    ``(action, reference)``; auto-replies and bounces are ``("ignored", "")``, a message already processed in
    ``mailbox`` is ``("duplicate", "")``. No bounce is sent from here."""
    from kompass.cases.intake import parse_message
    from kompass.cases.mail import CaseSeenStore, IntakeHandler

    message = parse_message(raw)
    if message.ignored:
        return "ignored", ""
    if CaseSeenStore(mailbox).already_processed(message.message_id):
        return "duplicate", ""
    outcome = IntakeHandler(mailbox)(message)
    return str(outcome.action), outcome.reference


# ---------------------------------------------------------------------------------------------
# Time waiting for the requester (issue 13: vendor performance takes it off resolution times)
# ---------------------------------------------------------------------------------------------
def performance_rows_with_pauses(service_ids, start: datetime, end: datetime, *, agency_ids=None):
    """:func:`performance_rows` with an eighth item: the spans ``[(paused, resumed), ...]`` the case's resolution
    clocks (the current one and those before a reopening) were paused waiting for the requester; a pause not yet
    ended has ``None`` as its end. One streamed query, like :func:`performance_rows`."""
    import json

    from django.db.models import Q, TextField
    from django.db.models.functions import Cast

    rows = Case.objects.filter(service_id__in=list(service_ids), type=Case.Type.INCIDENT, created__lt=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=list(agency_ids))
    fields = ("pk", "service_id", "priority", "agency_id", "created", "responded_at", "resolved_at")
    # The clocks as text: most cases never paused, and reading their JSON only to find that out is the cost.
    clocks = {"current": Cast("sla_resolution", TextField()), "history": Cast("sla_history", TextField())}
    for *row, current, history in (
        rows.annotate(**clocks).values_list(*fields, "current", "history").order_by().iterator(chunk_size=5000)
    ):
        if "pause" not in (current or "") and "pause" not in (history or ""):
            yield (*row, [])
            continue
        spans, paused = [], None
        for clock in [*(json.loads(history or "[]") or []), json.loads(current or "{}") or {}]:
            for event in clock.get("events") or ():
                if event.get("type") == "pause":
                    paused = datetime.fromisoformat(event["at"])
                elif paused is not None and event.get("type") in ("resume", "stop", "start"):
                    spans.append((paused, datetime.fromisoformat(event["at"])))
                    paused = None
        if paused is not None:
            spans.append((paused, None))
        yield (*row, spans)
