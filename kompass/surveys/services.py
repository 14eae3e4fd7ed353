"""The surveys app's logic: templates, campaigns and links, answering, results, follow-up and dialogue.

Views, the API, the scheduler and the demo call these functions; none of them decides access (the matrix
does, before the call), except the answer page, whose only credential is the personal link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from kompass.core.models import RoleAssignment
from kompass.core.roles import Role
from kompass.surveys.models import (
    Action,
    Answer,
    Campaign,
    CommentTag,
    CommentTagging,
    FollowUpRule,
    Invitation,
    Meeting,
    MeetingParticipant,
    Question,
    Response,
    ResultCell,
    SurveyTemplate,
)

#: The three dimensions of the story, in order.
DIMENSIONS = ["stability", "resolution_time", "follow_up"]
DIMENSION_LABELS = {
    "stability": "Driftsstabilitet",
    "resolution_time": "Løsningstid",
    "follow_up": "Oppfølgingskvalitet",
}


class SurveyError(ValueError):
    """A refused operation, with a message fit for the user."""


def _today() -> dt.date:
    return timezone.localdate()


def _site_url() -> str:
    return settings.KOMPASS_CASES_SITE_URL.rstrip("/")


def _notifications():
    from django.apps import apps

    if not apps.is_installed("kompass.notifications"):
        return None
    from kompass.notifications import services as notifications

    return notifications


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------
def default_template(name: str = "Temperaturmåling", **fields) -> SurveyTemplate:
    """The story's questionnaire: the three dimensions (each with an optional comment) and "what should we
    improve?". Expected level 4 on the 1–5 scale. Returns the existing newest version if there is one."""
    existing = SurveyTemplate.objects.filter(name=name).order_by("-version").first()
    if existing is not None:
        return existing
    with transaction.atomic():
        template = SurveyTemplate.objects.create(name=name, **fields)
        texts = {
            "stability": "Hvordan vurderer du driftsstabiliteten den siste måneden?",
            "resolution_time": "Hvordan vurderer du løsningstiden på meldte feil?",
            "follow_up": "Hvordan vurderer du kvaliteten på oppfølgingen av meldte feil?",
        }
        for position, dimension in enumerate(DIMENSIONS, start=1):
            Question.objects.create(
                template=template,
                position=position,
                kind=Question.Kind.RATING,
                dimension=dimension,
                text=texts[dimension],
                allow_comment=True,
                expected_level=Decimal("4.00"),
            )
        Question.objects.create(template=template, position=4, kind=Question.Kind.TEXT, text="Hva bør vi forbedre?")
    return template


def new_version(template: SurveyTemplate) -> SurveyTemplate:
    """A copy of ``template`` with its questions, one version up, to edit while the old one stays as asked."""
    with transaction.atomic():
        questions = list(template.questions.all())
        copy = SurveyTemplate.objects.get(pk=template.pk)
        copy.pk, copy.previous, copy.frozen = None, template, False
        copy.version = (SurveyTemplate.objects.filter(name=template.name).order_by("-version").first().version) + 1
        copy.save()
        for question in questions:
            question.pk, question.template = None, copy
        Question.objects.bulk_create(questions)
    return copy


TEMPLATE_FIELDS = [
    "anonymous",
    "min_group_size",
    "scale_min",
    "scale_max",
    "scale_labels",
    "dont_know",
    "roles",
    "days_open",
    "remind_after_days",
    "monthly",
]
QUESTION_FIELDS = ["kind", "dimension", "text", "help_text", "choices", "allow_comment", "required", "expected_level"]


def revise_template(template: SurveyTemplate, fields: dict, questions: list[dict]) -> SurveyTemplate:
    """Apply an edit. A template no campaign has opened with is changed in place; a frozen one is never
    touched: the edit becomes a new version (a copy, one version up), so every answer keeps referring to the
    question as it was asked. ``questions`` are the new questions in order (dicts of ``QUESTION_FIELDS``).
    Returns the template that now holds the edit."""
    if not questions:
        raise SurveyError("En mal må ha minst ett spørsmål.")
    with transaction.atomic():
        template = SurveyTemplate.objects.select_for_update().get(pk=template.pk)
        used = template.frozen or Answer.objects.filter(question__template=template).exists()
        if used:
            newest = SurveyTemplate.objects.filter(name=template.name).order_by("-version").first()
            if newest.pk != template.pk and not newest.frozen:
                raise SurveyError("Det finnes allerede en nyere versjon under arbeid; endre den.")
            target = SurveyTemplate(name=template.name, version=newest.version + 1, previous=template)
        else:
            target = template
            target.questions.all().delete()
        for name in TEMPLATE_FIELDS:
            if name in fields:
                setattr(target, name, fields[name])
        if target.scale_max <= target.scale_min:
            raise SurveyError("Skalaen må gå fra et lavere til et høyere tall.")
        target.save()
        Question.objects.bulk_create(
            [
                Question(template=target, position=position, **{k: q.get(k) for k in QUESTION_FIELDS if k in q})
                for position, q in enumerate(questions, start=1)
            ]
        )
    return target


# ---------------------------------------------------------------------------------------------
# Links: random, single use, only the hash stored
# ---------------------------------------------------------------------------------------------
TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def answer_url(token: str) -> str:
    return reverse("surveys:answer", args=[token])


class LinkState:
    VALID = "valid"
    UNKNOWN = "unknown"  # mistyped, tampered, replaced by a reminder's link, or never issued
    USED = "used"
    EXPIRED = "expired"


#: A hash compared when no row matched, so a miss costs what a hit costs.
_DUMMY_HASH = hash_token("kompass-surveys-no-such-link")


def resolve_link(token: str, *, today: dt.date | None = None) -> tuple[str, Invitation | None]:
    """What a link is. Looked up by its hash (the only thing stored) and compared in constant time.

    Only the holder of a real link learns whether it was used or expired; any other string is "unknown",
    whatever it resembles, so nothing can be enumerated.
    """
    today = today or _today()
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        hmac.compare_digest(_DUMMY_HASH, _DUMMY_HASH)
        return LinkState.UNKNOWN, None
    digest = hash_token(token)
    invitation = Invitation.objects.select_related("campaign__template").filter(token_hash=digest).first()
    if invitation is None:
        hmac.compare_digest(_DUMMY_HASH, digest)
        return LinkState.UNKNOWN, None
    if not hmac.compare_digest(invitation.token_hash, digest):  # pragma: no cover - the index matched it
        return LinkState.UNKNOWN, None
    if invitation.answered:
        return LinkState.USED, invitation
    campaign = invitation.campaign
    if campaign.status != Campaign.Status.OPEN or today > campaign.closes_on:
        return LinkState.EXPIRED, invitation
    return LinkState.VALID, invitation


# ---------------------------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------------------------
def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    return (first_of_month(day) - dt.timedelta(days=1)).replace(day=1)


def create_campaign(
    template: SurveyTemplate,
    *,
    period: dt.date,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    title: str = "",
    scheduled: bool = False,
) -> Campaign:
    opens_on = opens_on or _today()
    closes_on = closes_on or opens_on + dt.timedelta(days=template.days_open)
    if closes_on < opens_on:
        raise SurveyError("Sluttdatoen kan ikke være før startdatoen.")
    period = first_of_month(period)
    return Campaign.objects.create(
        template=template,
        title=title or f"{template.name} {period:%m.%Y}",
        period=period,
        opens_on=opens_on,
        closes_on=closes_on,
        scheduled=scheduled,
    )


def recipients_for(template: SurveyTemplate) -> list[tuple[int, str, object]]:
    """``(agency_id, role, user)`` for every active holder of an asked role, one per person × agency."""
    seen, found = set(), []
    rows = (
        RoleAssignment.objects.filter(role__in=template.roles, agency__isnull=False, user__is_active=True)
        .select_related("user")
        .order_by("agency_id", "role", "user_id")
    )
    for assignment in rows:
        key = (assignment.agency_id, assignment.user_id)
        if key not in seen:
            seen.add(key)
            found.append((assignment.agency_id, assignment.role, assignment.user))
    return found


def open_campaign(campaign: Campaign) -> int:
    """Open a draft campaign: freeze its template, issue one link per recipient and send the invitations."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != Campaign.Status.DRAFT:
            raise SurveyError("Undersøkelsen er allerede åpnet.")
        SurveyTemplate.objects.filter(pk=campaign.template_id).update(frozen=True)
        issued = []
        for agency_id, role, user in recipients_for(campaign.template):
            token, digest = _new_token()
            issued.append(
                (
                    Invitation(
                        campaign=campaign,
                        agency_id=agency_id,
                        role=role,
                        recipient=user,
                        token_hash=digest,
                        invited_on=_today(),
                    ),
                    token,
                )
            )
        Invitation.objects.bulk_create([invitation for invitation, _token in issued])
        campaign.status, campaign.invited = Campaign.Status.OPEN, len(issued)
        campaign.save(update_fields=["status", "invited"])
        for invitation, token in issued:
            if invitation.pk is None:  # backends without returned ids (none of ours): look it up
                invitation = Invitation.objects.get(token_hash=invitation.token_hash)
            _send_link(invitation, token, "invitation")
    return len(issued)


def _send_link(invitation: Invitation, token: str, kind: str) -> None:
    """Tell the recipient their link. The link is in the ledger row's context until it is delivered, as any
    e-mail's body is in the mail system; Kompass's own tables keep only its hash."""
    notifications = _notifications()
    if notifications is None or invitation.recipient is None:
        return
    campaign = invitation.campaign
    notifications.send(
        event=f"surveys.{kind}",
        recipients=[invitation.recipient],
        template=f"surveys/notifications/{kind}",
        context={
            "title": campaign.title,
            "closes_on": campaign.closes_on.isoformat(),
            "link": _site_url() + answer_url(token),
            "url": answer_url(token),
        },
        key=f"surveys:{kind}:{invitation.pk}:{invitation.token_hash[:16]}",
        agency=invitation.agency,
    )


def send_reminders(today: dt.date | None = None) -> int:
    """Remind, once, everyone who has not answered ``remind_after_days`` after a campaign opened.

    A reminder carries a new link (only hashes are stored, so the old one cannot be sent again); the old
    link stops working, the saved progress stays.
    """
    today = today or _today()
    count = 0
    for campaign in Campaign.objects.filter(status=Campaign.Status.OPEN, closes_on__gte=today).select_related(
        "template"
    ):
        if today < campaign.opens_on + dt.timedelta(days=campaign.template.remind_after_days):
            continue
        pending = campaign.invitations.filter(answered=False, reminded_on__isnull=True, recipient__isnull=False)
        for invitation in pending.select_related("recipient", "agency"):
            with transaction.atomic():
                token, digest = _new_token()
                updated = Invitation.objects.filter(pk=invitation.pk, answered=False, reminded_on__isnull=True).update(
                    token_hash=digest, reminded_on=today
                )
                if updated:
                    invitation.token_hash, invitation.campaign = digest, campaign
                    _send_link(invitation, token, "reminder")
                    count += 1
    return count


def close_campaign(campaign: Campaign) -> Campaign:
    """Close it: links expire, and every tie between invitation and person is deleted (domain §6)."""
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)
        campaign.invitations.update(recipient=None, draft={})
        campaign.refresh_from_db()
    evaluate_rules(campaign.period)
    return campaign


def close_due_campaigns(today: dt.date | None = None) -> int:
    today = today or _today()
    due = list(Campaign.objects.filter(status=Campaign.Status.OPEN, closes_on__lt=today))
    for campaign in due:
        close_campaign(campaign)
    return len(due)


def open_monthly_campaigns(today: dt.date | None = None) -> list[Campaign]:
    """The scheduler's monthly run: a campaign for last month of every monthly template (once each)."""
    today = today or _today()
    period = previous_month(today)
    opened = []
    for template in SurveyTemplate.objects.filter(monthly=True).order_by("name", "-version"):
        if any(t.name == template.name for t in [c.template for c in opened]):
            continue  # only the newest version of a template is asked
        if Campaign.objects.filter(template__name=template.name, period=period).exists():
            continue
        campaign = create_campaign(template, period=period, opens_on=today, scheduled=True)
        open_campaign(campaign)
        opened.append(campaign)
    return opened


# ---------------------------------------------------------------------------------------------
# Answering
# ---------------------------------------------------------------------------------------------
def clean_answers(template: SurveyTemplate, data, *, partial: bool) -> tuple[dict, dict]:
    """``(answers, errors)`` from a form's data: ``answers[str(question_pk)] = {"value"|"dont_know"|...}``."""
    answers, errors = {}, {}
    for question in template.questions.all():
        key = f"q{question.pk}"
        raw = (data.get(key) or "").strip()
        entry = {}
        if question.kind == Question.Kind.RATING:
            if raw == "dont_know" and template.dont_know:
                entry["dont_know"] = True
            elif raw:
                try:
                    value = int(raw)
                except ValueError:
                    value = None
                if value is None or not template.scale_min <= value <= template.scale_max:
                    errors[key] = "Velg et av alternativene."
                else:
                    entry["value"] = value
        elif question.kind == Question.Kind.CHOICE:
            if raw and raw not in question.choices:
                errors[key] = "Velg et av alternativene."
            elif raw:
                entry["choice"] = raw
        elif raw:
            entry["text"] = raw[:4000]
        comment = (data.get(f"{key}_comment") or "").strip()
        if comment and question.allow_comment:
            entry["comment"] = comment[:4000]
        if question.required and not partial and not (entry.keys() - {"comment"}):
            errors[key] = "Svar på dette spørsmålet."
        if entry:
            answers[str(question.pk)] = entry
    return answers, errors


def receipt(template: SurveyTemplate, answers: dict) -> list[dict]:
    """What the recipient answered (or has saved so far), question by question as asked, for their own eyes
    only: built from the answers in hand (the page just posted, or the invitation's draft), never read back
    from stored responses, which carry no link to the person."""
    labels = dict(template.scale())
    found = []
    for question in template.questions.all():
        entry = answers.get(str(question.pk), {})
        if entry.get("dont_know"):
            given = "dont_know"
        elif "value" in entry:
            given = f"{entry['value']} – {labels.get(entry['value'], entry['value'])}"
        else:
            given = entry.get("choice") or entry.get("text") or ""
        found.append({"question": question.text, "answer": given, "comment": entry.get("comment", "")})
    return found


def progress(template: SurveyTemplate, answers: dict) -> tuple[int, int]:
    """``(answered, questions)`` of a draft."""
    keys = {str(pk) for pk in template.questions.values_list("pk", flat=True)}
    return sum(1 for k, v in answers.items() if k in keys and (v.keys() - {"comment"})), len(keys)


def save_progress(invitation: Invitation, answers: dict) -> None:
    Invitation.objects.filter(pk=invitation.pk, answered=False).update(draft=answers)


def submit(invitation: Invitation, answers: dict) -> Response:
    """Store the answers once. The response row gets agency, role and day, never the invitation (and the
    person only on a named template); the invitation keeps only "answered"."""
    campaign = invitation.campaign
    template = campaign.template
    with transaction.atomic():
        claimed = Invitation.objects.filter(pk=invitation.pk, answered=False).update(answered=True, draft={})
        if not claimed:
            raise SurveyError("Denne lenken er allerede brukt.")
        response = Response.objects.create(
            campaign=campaign,
            agency_id=invitation.agency_id,
            role=invitation.role,
            respondent=None if template.anonymous else invitation.recipient,
            submitted_on=_today(),
        )
        questions = {str(q.pk): q for q in template.questions.all()}
        rows = []
        for key, entry in answers.items():
            question = questions.get(key)
            if question is None:
                continue
            rows.append(
                Answer(
                    response=response,
                    question=question,
                    value=entry.get("value"),
                    scale_min=template.scale_min if question.kind == Question.Kind.RATING else None,
                    scale_max=template.scale_max if question.kind == Question.Kind.RATING else None,
                    dont_know=bool(entry.get("dont_know")),
                    choice=entry.get("choice", ""),
                    text=entry.get("text", ""),
                    comment=entry.get("comment", ""),
                )
            )
        Answer.objects.bulk_create(rows)
        _add_to_cells(response, [a for a in rows if a.question.kind == Question.Kind.RATING])
        Campaign.objects.filter(pk=campaign.pk).update(answered=F("answered") + 1)
    return response


def _add_to_cells(response: Response, answers: list[Answer]) -> None:
    campaign = response.campaign
    template = campaign.template
    for question in template.questions.filter(kind=Question.Kind.RATING):
        answer = next((a for a in answers if a.question_id == question.pk), None)
        cell, _created = ResultCell.objects.select_for_update().get_or_create(
            campaign=campaign,
            question=question,
            agency_id=response.agency_id,
            role=response.role,
            defaults={
                "period": campaign.period,
                "dimension": question.dimension or f"q{question.pk}",
                "scale_min": template.scale_min,
                "scale_max": template.scale_max,
            },
        )
        if answer is not None and answer.value is not None:
            cell.n += 1
            cell.total += answer.value
            cell.distribution[str(answer.value)] = cell.distribution.get(str(answer.value), 0) + 1
        elif answer is not None and answer.dont_know:
            cell.dont_know += 1
        cell.save(update_fields=["n", "total", "dont_know", "distribution"])


# ---------------------------------------------------------------------------------------------
# The small-group rule
# ---------------------------------------------------------------------------------------------
def suppress(counts: dict, minimum: int) -> set:
    """The keys of ``counts`` (group → n) to hide when their sum (the parent) is published too.

    A group smaller than ``minimum`` is hidden. If the hidden groups together are fewer than ``minimum``
    (but some), the parent minus the shown groups would reveal them: hide the next smallest group too,
    until the hidden ones add up to ``minimum`` or more (complementary suppression).
    """
    hidden = {key for key, n in counts.items() if 0 < n < minimum}
    shown = sorted((n, str(key), key) for key, n in counts.items() if n >= minimum)
    while hidden and 0 < sum(counts[k] for k in hidden) < minimum and shown:
        hidden.add(shown.pop(0)[2])
    return hidden


def normalise(mean: float, scale_min: int, scale_max: int) -> float:
    """A mean on any scale, on 1–5 (so versions with other scales line up in trends)."""
    return 1 + (mean - scale_min) * 4 / (scale_max - scale_min)


@dataclass
class Figure:
    n: int = 0
    total: float = 0
    dont_know: int = 0
    hidden: bool = False
    distribution: dict = field(default_factory=dict)

    @property
    def mean(self) -> float | None:
        return None if self.hidden or not self.n else round(self.total / self.n, 2)


def _cells(dimension: str, start: dt.date, end: dt.date):
    """The cells of one dimension and period, each with its template's minimum (a small second query, not a
    join per row)."""
    rows = list(
        ResultCell.objects.filter(dimension=dimension, period__gte=start, period__lte=end)
        .values_list("campaign_id", "agency_id", "period", "role", "n", "total", "dont_know", "scale_min", "scale_max")
        .order_by()
    )
    minimums = {
        pk: (size if anonymous else 1)
        for pk, anonymous, size in Campaign.objects.filter(pk__in={r[0] for r in rows}).values_list(
            "pk", "template__anonymous", "template__min_group_size"
        )
    }
    return [(*row[1:], minimums[row[0]]) for row in rows]


@dataclass
class Grid:
    """Agency × month figures of one dimension, with the small-group rule applied, and the month averages."""

    dimension: str
    months: list
    cells: dict  # (agency_id, period) -> Figure
    average: dict  # period -> Figure: the average of the groups shown
    minimum: int


_GRIDS: OrderedDict = OrderedDict()  # key -> Grid, this process's newest computed grids
_GRIDS_SIZE = 96
_GRIDS_LOCK = threading.Lock()
_request = threading.local()


def _request_started(**_kwargs) -> None:
    _request.memo = {}


def _request_finished(**_kwargs) -> None:
    _request.memo = None


request_started.connect(_request_started, dispatch_uid="surveys-grid-memo-start")
request_finished.connect(_request_finished, dispatch_uid="surveys-grid-memo-end")


def _memo() -> dict | None:
    """A dictionary living for the current request only (``None`` outside a request: the scheduler, tasks
    and shells always ask the database)."""
    return getattr(_request, "memo", None)


def results_stamp() -> tuple:
    """What every published figure depends on, in one statement of small aggregates: the newest cell, the
    campaigns and the answers received, and the templates' small-group settings. Any new answer, cell or rule
    change gives a new stamp; within a request it is asked once."""
    from django.db import connection

    memo = _memo()
    if memo is not None and "stamp" in memo:
        return memo["stamp"]
    # The newest cell only (the primary key's end; a count or sums would scan the table). Cells are added by
    # answers (counted below) or in bulk (a new newest id), and go only with their campaign (counted below).
    # One statement: on PostgreSQL each round trip costs more than these aggregates.
    cell, campaign, template = (m._meta.db_table for m in (ResultCell, Campaign, SurveyTemplate))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {cell}), (SELECT SUM(answered) FROM {campaign}),"  # noqa: S608 - our names
            f" (SELECT COUNT(*) FROM {campaign}), (SELECT SUM(min_group_size) FROM {template}),"
            f" (SELECT COUNT(*) FROM {template} WHERE NOT anonymous), (SELECT COUNT(*) FROM {template})"
        )
        figures = tuple(cursor.fetchone())
    from django.core.cache import cache

    # The shared cache's generation: clearing the cache (as every test does) forgets the kept grids too.
    generation = cache.get("surveys:grid-generation")
    if generation is None:
        generation = secrets.token_hex(8)
        cache.set("surveys:grid-generation", generation, None)
    stamp = (generation, *figures)
    if memo is not None:
        memo["stamp"] = stamp
    return stamp


def grid(dimension: str, start: dt.date, end: dt.date, *, role: str | None = None, agency_ids=None) -> Grid:
    """:func:`compute_grid`, kept: in this process under a key carrying :func:`results_stamp` (so any new
    answer or cell makes a new key, in every process), and for the rest of the request. The grid returned is
    the caller's own (filtered to ``agency_ids``); the kept one is never changed."""
    start = first_of_month(start)
    key = (dimension, start, end, role, results_stamp())
    with _GRIDS_LOCK:
        found = _GRIDS.get(key)
        if found is not None:
            _GRIDS.move_to_end(key)
    if found is None:
        found = compute_grid(dimension, start, end, role=role)
        with _GRIDS_LOCK:
            _GRIDS[key] = found
            while len(_GRIDS) > _GRIDS_SIZE:
                _GRIDS.popitem(last=False)
    if agency_ids is None:
        cells = dict(found.cells)
    else:
        allowed = set(agency_ids)
        cells = {k: f for k, f in found.cells.items() if k[0] in allowed}
    return Grid(
        dimension=found.dimension, months=found.months, cells=cells, average=found.average, minimum=found.minimum
    )


def compute_grid(dimension: str, start: dt.date, end: dt.date, *, role: str | None = None) -> Grid:
    """The heat map's numbers. Every published number is computed here, so every page, export and the API
    get the same suppression:

    * an agency-month (all roles) with fewer than the minimum answers is hidden;
    * with a role filter, the role groups of an agency-month are the parts of its all-roles figure, so a role
      group is hidden by :func:`suppress` over those parts (small, or its complement would be small): the
      difference between the two views reveals no small group;
    * the municipality average of a month is the average of the groups *shown*, so it adds nothing that the
      shown cells do not already say (the average minus the shown agencies cannot give a hidden one back).
    """
    months = []
    month = first_of_month(start)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    parts: dict = defaultdict(dict)  # (agency_id, period) -> {role: Figure}
    minimum = 1
    for agency_id, period, cell_role, n, total, dont_know, low, high, min_size in _cells(dimension, months[0], end):
        minimum = max(minimum, min_size)
        figure = parts[agency_id, period].setdefault(cell_role, Figure())
        figure.n += n
        figure.total += total if (low, high) == (1, 5) else normalise(total / n, low, high) * n if n else 0
        figure.dont_know += dont_know
    cells: dict = {}
    for key, by_role in parts.items():
        if role:
            if role not in by_role:
                continue
            figure = by_role[role]
            figure.hidden = role in suppress({r: f.n for r, f in by_role.items()}, minimum) or figure.n < minimum
        else:
            figure = Figure(
                n=sum(f.n for f in by_role.values()),
                total=sum(f.total for f in by_role.values()),
                dont_know=sum(f.dont_know for f in by_role.values()),
            )
            figure.hidden = figure.n < minimum
        cells[key] = figure
    average: dict = defaultdict(Figure)
    for (_agency_id, period), figure in cells.items():
        if not figure.hidden:
            average[period].n += figure.n
            average[period].total += figure.total
            average[period].dont_know += figure.dont_know
    return Grid(dimension=dimension, months=months, cells=cells, average=dict(average), minimum=minimum)


def distribution(agency_id: int, period: dt.date, dimension: str) -> Figure:
    """One agency-month's distribution, hidden by the same rule as the grid's cell."""
    figures = grid(dimension, period, period)
    found = figures.cells.get((agency_id, period), Figure(hidden=True))
    if found.hidden:
        return Figure(n=found.n, hidden=True)
    figure = Figure(n=found.n, total=found.total, dont_know=found.dont_know)
    memo = _memo()
    key = ("distributions", agency_id, period)
    rows = memo.get(key) if memo is not None else None
    if rows is None:  # every dimension's cells of the agency-month at once
        rows = list(
            ResultCell.objects.filter(agency_id=agency_id, period=period).values_list("dimension", "distribution")
        )
        if memo is not None:
            memo[key] = rows
    for dist in (d for dim, d in rows if dim == dimension):
        for value, count in dist.items():
            figure.distribution[value] = figure.distribution.get(value, 0) + count
    figure.distribution = dict(sorted(figure.distribution.items(), key=lambda kv: int(kv[0])))
    return figure


def comments(agency_id: int, period: dt.date) -> list[str]:
    """Free text of an agency-month, only where the agency's figures are shown (a small group's words are
    as telling as its scores); sorted, so their order says nothing about who wrote what."""
    visible = grid(DIMENSIONS[0], period, period).cells.get((agency_id, period))
    if visible is None or visible.hidden:
        return []
    texts = Answer.objects.filter(response__agency_id=agency_id, response__campaign__period=period).values_list(
        "text", "comment"
    )
    return sorted({t for pair in texts for t in pair if t})


def comment_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _shown_months(agency_ids, start: dt.date, end: dt.date) -> set:
    """``(agency_id, period)`` whose all-roles figures are shown (comments are shown only there)."""
    figures = grid(DIMENSIONS[0], start, end, agency_ids=agency_ids)
    return {key for key, figure in figures.cells.items() if not figure.hidden}


def tagged_comments(agency_id: int, period: dt.date, *, tag: int | None = None) -> list[dict]:
    """The comments of a shown agency-month (as :func:`comments`), each with its digest and tags;
    ``tag`` keeps only those with that tag."""
    texts = comments(agency_id, period)
    if not texts:
        return []
    tags = defaultdict(list)
    if not CommentTag.objects.exists():
        return [{"text": text, "digest": comment_digest(text), "tags": []} for text in texts]
    for digest, tag_id, name in CommentTagging.objects.filter(agency_id=agency_id, period=period).values_list(
        "digest", "tag_id", "tag__name"
    ):
        tags[digest].append((tag_id, name))
    found = []
    for text in texts:
        digest = comment_digest(text)
        mine = sorted(tags.get(digest, []), key=lambda t: t[1])
        if tag is None or any(t[0] == tag for t in mine):
            found.append({"text": text, "digest": digest, "tags": mine})
    return found


def tag_comment(agency_id: int, period: dt.date, digest: str, tag_ids) -> list[int]:
    """Set the tags of one comment of a shown agency-month. Refused for a comment nobody may see there (a
    hidden month, or a text that is not one of its comments), so tagging reveals nothing either."""
    if not any(comment_digest(text) == digest for text in comments(agency_id, period)):
        raise SurveyError("Fant ikke kommentaren.")
    tag_ids = set(CommentTag.objects.filter(pk__in=list(tag_ids)).values_list("pk", flat=True))
    with transaction.atomic():
        CommentTagging.objects.filter(agency_id=agency_id, period=period, digest=digest).exclude(
            tag_id__in=tag_ids
        ).delete()
        have = set(
            CommentTagging.objects.filter(agency_id=agency_id, period=period, digest=digest).values_list(
                "tag_id", flat=True
            )
        )
        CommentTagging.objects.bulk_create(
            [
                CommentTagging(agency_id=agency_id, period=period, digest=digest, tag_id=t)
                for t in sorted(tag_ids - have)
            ]
        )
    return sorted(tag_ids)


def tag_counts(start: dt.date, end: dt.date, *, agency_ids=None) -> list[tuple]:
    """``[(tag, comments, agencies)]``: how many comments carry each tag, over the agency-months shown
    (a tagging in a hidden group never counts), for the agencies given."""
    shown = _shown_months(agency_ids, start, end)
    counts: dict = defaultdict(lambda: [0, set()])
    rows = CommentTagging.objects.filter(period__gte=first_of_month(start), period__lte=end)
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=list(agency_ids))
    for agency_id, period, tag_id in rows.values_list("agency_id", "period", "tag_id"):
        if (agency_id, period) in shown:
            counts[tag_id][0] += 1
            counts[tag_id][1].add(agency_id)
    return [(tag, counts[tag.pk][0], len(counts[tag.pk][1])) for tag in CommentTag.objects.order_by("name")]


def tagged_comment_list(tag: CommentTag, start: dt.date, end: dt.date, *, agency_ids=None) -> list[dict]:
    """Every shown comment carrying ``tag`` in the months, with agency and month (for the tag's page)."""
    shown = _shown_months(agency_ids, start, end)
    rows = CommentTagging.objects.filter(tag=tag, period__gte=first_of_month(start), period__lte=end)
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=list(agency_ids))
    wanted = defaultdict(set)
    for agency_id, period, digest in rows.values_list("agency_id", "period", "digest"):
        if (agency_id, period) in shown:
            wanted[agency_id, period].add(digest)
    found = []
    for (agency_id, period), digests in sorted(wanted.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        for text in comments(agency_id, period):
            if comment_digest(text) in digests:
                found.append({"agency_id": agency_id, "period": period, "text": text})
    return found


def response_rates(start: dt.date, end: dt.date) -> dict:
    """``{period: (invited, answered)}`` across campaigns."""
    rates: dict = defaultdict(lambda: [0, 0])
    for period, invited, answered in Campaign.objects.filter(period__gte=start, period__lte=end).values_list(
        "period", "invited", "answered"
    ):
        rates[period][0] += invited
        rates[period][1] += answered
    return {period: tuple(v) for period, v in sorted(rates.items())}


def expected_level(dimension: str) -> Decimal | None:
    """The expected level of the newest version asking ``dimension`` (one query per request for all)."""
    memo = _memo()
    levels = memo.get("expected") if memo is not None else None
    if levels is None:
        levels = {}
        for key, level in (
            Question.objects.filter(expected_level__isnull=False)
            .exclude(dimension="")
            .order_by("-template__version", "-pk")
            .values_list("dimension", "expected_level")
        ):
            levels.setdefault(key, level)
        if memo is not None:
            memo["expected"] = levels
    return levels.get(dimension)


# ---------------------------------------------------------------------------------------------
# Side by side with measured service
# ---------------------------------------------------------------------------------------------
def side_by_side(start: dt.date, end: dt.date, *, agency_ids=None) -> dict:
    """Scores next to the cases app's monthly figures per agency and month, and the correlation of each
    dimension with each figure across the agency-months shown."""
    from kompass.cases import services as cases

    grids = {d: grid(d, start, end, agency_ids=agency_ids) for d in DIMENSIONS}
    keys = sorted({key for g in grids.values() for key in g.cells})
    figures = cases.monthly_agency_figures(sorted({k[0] for k in keys}), start, end)
    rows = []
    for key in keys:
        scores = {d: grids[d].cells.get(key, Figure(hidden=True)).mean for d in DIMENSIONS}
        rows.append({"agency_id": key[0], "period": key[1], "scores": scores, "service": figures.get(key, {})})
    measures = ["sla_attainment", "median_resolution_hours", "incidents", "requester_informed_rate"]
    correlation = {
        d: {m: pearson([(r["scores"][d], r["service"].get(m)) for r in rows]) for m in measures} for d in DIMENSIONS
    }
    return {"rows": rows, "correlation": correlation, "measures": measures}


def pearson(pairs) -> float | None:
    """Pearson's r over the pairs where both values exist; ``None`` under three pairs or no variance."""
    points = [(float(x), float(y)) for x, y in pairs if x is not None and y is not None]
    if len(points) < 3:
        return None
    n = len(points)
    mean_x = sum(x for x, _y in points) / n
    mean_y = sum(y for _x, y in points) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    sxx = sum((x - mean_x) ** 2 for x, _y in points)
    syy = sum((y - mean_y) ** 2 for _x, y in points)
    if sxx == 0 or syy == 0:
        return None
    return round(sxy / (sxx * syy) ** 0.5, 3)


# ---------------------------------------------------------------------------------------------
# Follow-up
# ---------------------------------------------------------------------------------------------
def key_account_manager(agency_id: int):
    assignment = (
        RoleAssignment.objects.filter(role=Role.KEY_ACCOUNT_MANAGER, agency_id=agency_id, user__is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return assignment.user if assignment else None


def evaluate_rules(period: dt.date) -> list[Action]:
    """Open an action for the agency's key account manager wherever an active rule fires for ``period``.

    Only shown figures count (a hidden group cannot trigger anything that would reveal it); each rule opens
    at most one action per agency and month, however often it is evaluated.
    """
    opened = []
    for rule in FollowUpRule.objects.filter(active=True):
        now = grid(rule.dimension, previous_month(period), period)
        for (agency_id, month), figure in now.cells.items():
            if month != period or figure.mean is None:
                continue
            before = now.cells.get((agency_id, previous_month(period)))
            if rule.kind == FollowUpRule.Kind.BELOW:
                fires = figure.mean < float(rule.value)
                why = f"{DIMENSION_LABELS.get(rule.dimension, rule.dimension)} {figure.mean:.2f} < {rule.value}"
            else:
                fires = before is not None and before.mean is not None and before.mean - figure.mean > float(rule.value)
                why = (
                    (
                        f"{DIMENSION_LABELS.get(rule.dimension, rule.dimension)} falt fra "
                        f"{before.mean:.2f} til {figure.mean:.2f}"
                    )
                    if fires
                    else ""
                )
            owner = key_account_manager(agency_id) if fires else None
            if owner is None or Action.objects.filter(rule=rule, agency_id=agency_id, period=period).exists():
                continue
            action = open_action(
                agency_id=agency_id,
                owner=owner,
                title=f"{rule.name}: {period:%m.%Y}",
                description=why,
                due_on=_today() + dt.timedelta(days=rule.due_days),
                rule=rule,
                period=period,
            )
            opened.append(action)
    return opened


def open_action(
    *, agency_id: int, owner, title: str, due_on: dt.date, description: str = "", rule=None, period=None, meeting=None
) -> Action:
    with transaction.atomic():
        action = Action.objects.create(
            agency_id=agency_id,
            owner=owner,
            title=title,
            description=description,
            due_on=due_on,
            rule=rule,
            period=period,
            meeting=meeting,
        )
        _notify_action(action, "action_opened")
    return action


def _notify_action(action: Action, kind: str) -> None:
    notifications = _notifications()
    if notifications is None or not action.owner.is_active:
        return
    notifications.send(
        event=f"surveys.{kind}",
        recipients=[action.owner],
        template=f"surveys/notifications/{kind}",
        context={
            "title": action.title,
            "due_on": action.due_on.isoformat(),
            "url": action.get_absolute_url(),
            "site_url": _site_url(),
        },
        key=f"surveys:{kind}:{action.pk}",
        obj=action,
    )


def close_action(action: Action, *, note: str) -> Action:
    note = (note or "").strip()
    if not note:
        raise SurveyError("Skriv et avslutningsnotat.")
    if action.status == Action.Status.DONE:
        raise SurveyError("Tiltaket er allerede lukket.")
    action.status, action.closing_note, action.closed_at = Action.Status.DONE, note, timezone.now()
    action.save(update_fields=["status", "closing_note", "closed_at"])
    return action


def overdue_actions(today: dt.date | None = None):
    return Action.objects.exclude(status=Action.Status.DONE).filter(due_on__lt=today or _today())


def notify_overdue(today: dt.date | None = None) -> int:
    """Tell each owner once that their action is overdue."""
    count = 0
    for action in overdue_actions(today).filter(overdue_notified=False).select_related("owner"):
        with transaction.atomic():
            if Action.objects.filter(pk=action.pk, overdue_notified=False).update(overdue_notified=True):
                _notify_action(action, "action_overdue")
                count += 1
    return count


# ---------------------------------------------------------------------------------------------
# Dialogue
# ---------------------------------------------------------------------------------------------
def invite(meeting: Meeting, users) -> int:
    """Invite people to a meeting (once each) and tell them."""
    added = []
    with transaction.atomic():
        for user in users:
            _participant, created = MeetingParticipant.objects.get_or_create(meeting=meeting, user=user)
            if created:
                added.append(user)
        notifications = _notifications()
        if notifications is not None and added:
            notifications.send(
                event="surveys.meeting_invitation",
                recipients=[u for u in added if u.is_active],
                template="surveys/notifications/meeting_invitation",
                context={
                    "title": meeting.title,
                    "starts_at": timezone.localtime(meeting.starts_at).isoformat(),
                    "location": meeting.location,
                    "url": meeting.get_absolute_url(),
                    "site_url": _site_url(),
                },
                key=f"surveys:meeting:{meeting.pk}:invitation",
                obj=meeting,
                agency=None,
            )
    return len(added)


def meeting_candidates(meeting: Meeting):
    """Who may be invited: the active holders of an agency role at the meeting's agencies (contacts, system
    owners, administrators, key account managers) and the agreement managers."""
    from kompass.core.models import User

    agency_ids = list(meeting.agencies.values_list("pk", flat=True))
    from django.db.models import Q

    holders = RoleAssignment.objects.filter(Q(agency_id__in=agency_ids) | Q(role=Role.AGREEMENT_MANAGER))
    return User.objects.filter(is_active=True, pk__in=holders.values("user_id")).order_by("full_name", "email")


def invite_contacts(meeting: Meeting) -> int:
    """The breakfast meeting's invitation: every IT main contact and system owner of its agencies."""
    agency_ids = list(meeting.agencies.values_list("pk", flat=True))
    from kompass.core.models import User

    users = User.objects.filter(
        is_active=True,
        pk__in=RoleAssignment.objects.filter(
            agency_id__in=agency_ids, role__in=[Role.AGENCY_IT_CONTACT, Role.SYSTEM_OWNER]
        ).values("user_id"),
    ).order_by("pk")
    return invite(meeting, list(users))


def set_attendance(participant: MeetingParticipant, attendance: str) -> MeetingParticipant:
    if attendance not in MeetingParticipant.Attendance.values:
        raise SurveyError("Ukjent status.")
    participant.attendance = attendance
    participant.save(update_fields=["attendance"])
    return participant


def cockpit(agency, *, user) -> dict:
    """What a key account manager reads before visiting ``agency``."""
    from kompass.cases import services as cases
    from kompass.core.models import System

    today = _today()
    start = previous_month(first_of_month(today)).replace(year=today.year - 1)
    end = previous_month(today)
    trend = {}
    for dimension in DIMENSIONS:
        figures = grid(dimension, start, end)
        trend[dimension] = [
            (
                month,
                figures.cells.get((agency.pk, month), Figure(hidden=True)).mean,
                figures.average.get(month, Figure()).mean,
            )
            for month in figures.months
        ]
    meetings = Meeting.objects.filter(agencies=agency).restrict(user, "view")
    service = cases.monthly_agency_figures([agency.pk], start, end)
    return {
        "trend": trend,
        "months": trend[DIMENSIONS[0]] and [m for m, _a, _b in trend[DIMENSIONS[0]]],
        # month -> the agency's mean per dimension, in DIMENSIONS order (the page's table)
        "trend_rows": [
            (month, [trend[d][i][1] for d in DIMENSIONS]) for i, (month, _a, _b) in enumerate(trend[DIMENSIONS[0]])
        ],
        "service": [
            (month, service.get((agency.pk, month), {})) for month in [m for m, _a, _b in trend[DIMENSIONS[0]]]
        ][-6:],
        "actions": Action.objects.filter(agency=agency)
        .exclude(status=Action.Status.DONE)
        .restrict(user, "view")
        .select_related("owner"),
        "systems": System.objects.filter(agency=agency, active=True).restrict(user, "view").order_by("name"),
        "last_meeting": meetings.filter(starts_at__lt=timezone.now()).order_by("-starts_at").first(),
        "next_meeting": meetings.filter(starts_at__gte=timezone.now()).order_by("starts_at").first(),
        "today": today,
    }
