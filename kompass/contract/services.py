"""The register's operations: the status workflow, evidence and progress. Views, the API and commands call these.

Every function checks the access matrix itself (``access.can``) and raises ``PermissionDenied`` or
``ValidationError`` before writing anything, so a refused change changes nothing.

Case references: evidence may name a case by its number. Which cases exist, and who sees them, is the cases
app's business: :func:`find_case` asks ``kompass.cases.services.find_by_number`` (the one way an app reaches
a sibling is its services module), which answers only with a case the user may see.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kompass.cases import services as cases
from kompass.contract.models import Contract, Evidence, Requirement, RequirementComment
from kompass.core import access

__all__ = [
    "ALLOWED",
    "CASE_NUMBER",
    "Progress",
    "add_comment",
    "add_evidence",
    "bulk_set_status",
    "burnup",
    "chart_data",
    "find_case",
    "overdue",
    "progress",
    "set_status",
    "status_action",
    "timeline",
]

S = Requirement.Status

#: From each status, the statuses a requirement may move to.
ALLOWED: dict[str, frozenset[str]] = {
    S.NOT_STARTED: frozenset({S.IN_PROGRESS, S.READY, S.DEVIATION, S.NOT_APPLICABLE}),
    S.IN_PROGRESS: frozenset({S.NOT_STARTED, S.READY, S.DEVIATION, S.NOT_APPLICABLE}),
    S.READY: frozenset({S.IN_PROGRESS, S.VERIFIED, S.DEVIATION, S.NOT_APPLICABLE}),
    S.VERIFIED: frozenset({S.READY, S.APPROVED, S.DEVIATION}),
    S.APPROVED: frozenset({S.VERIFIED}),
    S.DEVIATION: frozenset({S.IN_PROGRESS, S.READY, S.VERIFIED}),
    S.NOT_APPLICABLE: frozenset({S.NOT_STARTED}),
}
#: The statuses the vendor's side may set (the matrix action ``progress``); the rest need ``verify``.
PROGRESS_STATUSES = frozenset({S.NOT_STARTED, S.IN_PROGRESS, S.READY})
#: Statuses that count as done for the burn-up and the protocol.
DONE_STATUSES = frozenset({S.VERIFIED, S.APPROVED, S.NOT_APPLICABLE})
#: A case number: letters, digits and dashes, e.g. KOM-2026-000042.
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")


def status_action(old: str, new: str) -> str:
    """The matrix action a change from ``old`` to ``new`` needs: ``progress`` within the vendor's statuses."""
    return "progress" if old in PROGRESS_STATUSES and new in PROGRESS_STATUSES else "verify"


def _check_transition(requirement: Requirement, new: str, *, user, remediation: str, due_on, reason: str) -> None:
    if new not in S.values:
        raise ValidationError(_("Unknown status “%(status)s”.") % {"status": new})
    old = requirement.status
    if new == old:
        raise ValidationError(_("The requirement already has this status."))
    if new not in ALLOWED[old]:
        raise ValidationError(
            _("A requirement cannot go from “%(old)s” to “%(new)s”.") % {"old": S(old).label, "new": S(new).label}
        )
    if not access.can(user, status_action(old, new), requirement):
        raise PermissionDenied
    if new == S.DEVIATION and not (remediation.strip() and due_on):
        raise ValidationError(_("A deviation needs the agreed remediation and its due date."))
    if new == S.NOT_APPLICABLE and not reason.strip():
        raise ValidationError(_("Say why the requirement does not apply."))


def _apply_status(requirement: Requirement, new: str, *, remediation: str, due_on, reason: str) -> None:
    requirement.status = new
    if new == S.DEVIATION:
        requirement.remediation, requirement.remediation_due_on = remediation.strip(), due_on
    if new == S.NOT_APPLICABLE:
        requirement.not_applicable_reason = reason.strip()
    requirement.save()


def set_status(
    requirement: Requirement,
    new: str,
    *,
    user,
    comment: str = "",
    remediation: str = "",
    due_on: date | None = None,
    reason: str = "",
) -> Requirement:
    """Move one requirement to ``new``; a deviation needs a remediation and due date, not applicable a reason."""
    _check_transition(requirement, new, user=user, remediation=remediation, due_on=due_on, reason=reason)
    old = requirement.status
    with transaction.atomic():
        _apply_status(requirement, new, remediation=remediation, due_on=due_on, reason=reason)
        if comment.strip():
            RequirementComment.objects.create(
                requirement=requirement, author=user, text=comment.strip(), status_from=old, status_to=new
            )
    return requirement


def bulk_set_status(
    requirements: Iterable[Requirement],
    new: str,
    *,
    user,
    comment: str,
    remediation: str = "",
    due_on: date | None = None,
    reason: str = "",
) -> int:
    """Move every requirement to ``new`` with one mandatory comment: all of them, or none (the first refusal
    names the requirement). Returns the number changed."""
    if not comment.strip():
        raise ValidationError(_("A bulk status change needs a comment."))
    requirements = list(requirements)
    if not requirements:
        raise ValidationError(_("Choose at least one requirement."))
    for requirement in requirements:
        try:
            _check_transition(requirement, new, user=user, remediation=remediation, due_on=due_on, reason=reason)
        except ValidationError as error:
            raise ValidationError(
                _("Requirement %(id)s: %(error)s")
                % {"id": requirement.requirement_id, "error": " ".join(error.messages)}
            ) from error
    with transaction.atomic():
        for requirement in requirements:
            old = requirement.status
            _apply_status(requirement, new, remediation=remediation, due_on=due_on, reason=reason)
            RequirementComment.objects.create(
                requirement=requirement, author=user, text=comment.strip(), status_from=old, status_to=new
            )
    return len(requirements)


def add_comment(requirement: Requirement, text: str, *, user) -> RequirementComment:
    comment = RequirementComment(requirement=requirement, author=user, text=text.strip())
    if not comment.text:
        raise ValidationError(_("Write a comment."))
    if not access.can(user, "create", comment):
        raise PermissionDenied
    comment.save()
    return comment


# --- Evidence ---------------------------------------------------------------------------------------------------


def find_case(number: str, *, user):
    """The case with this number that ``user`` may see, or ``None``; raises for a malformed number."""
    number = number.strip()
    if not CASE_NUMBER.match(number):
        raise ValidationError(_("“%(number)s” is not a case number.") % {"number": number})
    return cases.find_by_number(number, user)


def add_evidence(
    requirement: Requirement, *, user, kind: str, title: str = "", file=None, url: str = "", case_reference: str = ""
) -> Evidence:
    """Attach a file, a link or a case (by case number) to a requirement."""
    evidence = Evidence(requirement=requirement, kind=kind, added_by=user, title=title.strip())
    if kind == Evidence.Kind.FILE:
        if not file:
            raise ValidationError({"file": _("Choose a file.")})
        evidence.file = file
        evidence.title = evidence.title or file.name
    elif kind == Evidence.Kind.LINK:
        if not url:
            raise ValidationError({"url": _("Give the link.")})
        evidence.url = url
        evidence.title = evidence.title or url
    elif kind == Evidence.Kind.CASE:
        case = find_case(case_reference, user=user)
        if case is None:
            raise ValidationError(
                {"case_reference": _("No case with the number %(number)s.") % {"number": case_reference.strip()}}
            )
        evidence.case_reference = case.number  # as the cases app writes it
        evidence.title = evidence.title or str(case)
    else:
        raise ValidationError({"kind": _("Unknown kind of evidence.")})
    if not access.can(user, "create", evidence):
        raise PermissionDenied
    evidence.full_clean(exclude=["file"])
    evidence.save()
    return evidence


# --- Progress ---------------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Counts of a contract's (current, not withdrawn) requirements by status, milestone and chapter."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_milestone: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    by_chapter: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(self.by_status.get(status, 0) for status in DONE_STATUSES)

    @property
    def statuses(self) -> list[tuple[str, str]]:
        return list(S.choices)


def progress(contract: Contract) -> Progress:
    """One query: the status counts overall, per milestone (in date order) and per chapter (in spec order)."""
    rows = (
        contract.requirements.filter(withdrawn=False)
        .order_by("position", "pk")
        .values_list("status", "milestone__name", "chapter")
    )
    result = Progress()
    overall: Counter = Counter()
    milestones: dict[str, Counter] = {m.name: Counter() for m in contract.milestones.order_by("due_on", "name")}
    chapters: dict[str, Counter] = {}
    no_milestone = _("No milestone")
    for status, milestone, chapter in rows:
        overall[status] += 1
        milestones.setdefault(milestone or no_milestone, Counter())[status] += 1
        chapters.setdefault(chapter or "–", Counter())[status] += 1
    result.total = sum(overall.values())
    result.by_status = {status: overall.get(status, 0) for status in S.values}
    result.by_milestone = [(name, _counts(c)) for name, c in milestones.items()]
    result.by_chapter = [(name, _counts(c)) for name, c in chapters.items()]
    return result


def _counts(counter: Counter) -> dict[str, int]:
    counts = {status: counter.get(status, 0) for status in S.values}
    counts["total"] = sum(counter.values())
    return counts


def overdue(contract: Contract, today: date | None = None):
    """Requirements past their milestone's date and not done, and deviations past their remediation date."""
    today = today or timezone.localdate()
    return (
        contract.requirements.filter(withdrawn=False)
        .filter(
            Q(milestone__due_on__lt=today) & ~Q(status__in=DONE_STATUSES | {S.DEVIATION})
            | Q(status=S.DEVIATION, remediation_due_on__lt=today)
        )
        .select_related("milestone")
        .order_by("milestone__due_on", "position")
    )


def chart_data(result: Progress) -> dict:
    """The progress chart's data (milestones × statuses, stacked), for ``json_script``; the table shows the same."""
    labels = [name for name, _counts in result.by_milestone]
    return {
        "labels": labels,
        "datasets": [
            {"label": str(label), "status": status, "data": [counts[status] for _name, counts in result.by_milestone]}
            for status, label in S.choices
        ],
    }


def burnup(contract: Contract) -> list[tuple[date, int]]:
    """Done requirements over time (one point per day with a change), from the audit log's status changes.

    Requirements an import created already done (bulk-created: the import batch is their record, with no
    audited status change) count from the start, so the last point is always today's count."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    ids = set(contract.requirements.filter(withdrawn=False).values_list("pk", flat=True))
    entries = (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Requirement))
        .filter(object_id__in=contract.requirements.values("pk"))
        .order_by("timestamp", "pk")
        .values_list("object_id", "timestamp", "changes")
    )
    by_day: dict[date, int] = {}
    for object_id, timestamp, changes in entries:
        if object_id not in ids or not isinstance(changes, dict) or "status" not in changes:
            continue
        old, new = (changes["status"] + [None, None])[:2]
        delta = (new in DONE_STATUSES) - (old in DONE_STATUSES)
        if delta:
            day = timezone.localdate(timestamp)
            by_day[day] = by_day.get(day, 0) + delta
    now_done = contract.requirements.filter(withdrawn=False, status__in=DONE_STATUSES).count()
    points, done = [], now_done - sum(by_day.values())
    for day in sorted(by_day):
        done += by_day[day]
        points.append((day, done))
    if not points and now_done:
        points.append((timezone.localdate(), now_done))
    return points


def burnup_chart(points: list[tuple[date, int]], total: int) -> dict:
    """The burn-up chart's data for ``json_script``: done per day and the scope (all current requirements)."""
    return {
        "labels": [day.isoformat() for day, _done in points],
        "datasets": [
            {"label": str(_("Done")), "key": "done", "data": [done for _day, done in points]},
            {"label": str(_("Scope")), "key": "scope", "data": [total for _point in points]},
        ],
    }


def timeline(requirement: Requirement, history) -> list[tuple[str, object, object]]:
    """The requirement page's timeline, newest first: ``(kind, when, item)`` for changes, comments, evidence."""
    events = [("change", entry.timestamp, entry) for entry in history]
    events += [("comment", c.created, c) for c in requirement.comments.select_related("author")]
    events += [("evidence", e.added, e) for e in requirement.evidence.select_related("added_by")]
    return sorted(events, key=lambda event: event[1], reverse=True)


# ---------------------------------------------------------------------------------------------
# For the reports app (issue #13)
# ---------------------------------------------------------------------------------------------


def contracts():
    """Every contract (access is the caller's business), by name."""
    return Contract.objects.order_by("name")


def get_contract(pk: int) -> Contract | None:
    return Contract.objects.filter(pk=pk).first()


def open_deviations(contract: Contract) -> list[dict]:
    """The contract's requirements in deviation: ``requirement_id``, ``text``, ``remediation``, ``due_on``."""
    rows = contract.requirements.filter(withdrawn=False, status=S.DEVIATION).order_by("position")
    return [
        {
            "requirement_id": r.requirement_id,
            "text": r.text,
            "remediation": r.remediation,
            "due_on": r.remediation_due_on,
        }
        for r in rows
    ]


def is_vendor_representative(contract: Contract, user) -> bool:
    """Does the contract name ``user`` as one of the vendor's representatives?"""
    return contract.vendor_representatives.filter(pk=user.pk).exists()
