"""Vendor performance services: gather a month's inputs from the sibling apps, compute, store, and let both
parties accept or dispute the statement.

Inputs are read only through the siblings' services: cases (``performance_rows_with_pauses``,
``vendor_resolution_times``, ``major_incidents``, ``business_calendar``), contract (the contract, its fee and
representatives, open deviations), surveys (temperature), vendors (e-bonding health). The arithmetic is
:mod:`kompass.reports.compute`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kompass.cases import services as cases
from kompass.contract import services as contracts
from kompass.core import access, durable
from kompass.core.roles import Role
from kompass.reports import compute
from kompass.reports.models import (
    Adjustment,
    Dispute,
    Exclusion,
    LevelVersion,
    Outage,
    ScorecardFigures,
    Statement,
    StatementLine,
)
from kompass.vendors import services as vendors

HOUR = 3600.0


class ReportError(ValueError):
    """A request the reports app refuses (shown to the user, a 400 in the API)."""


# ---------------------------------------------------------------------------------------------
# Months and versions
# ---------------------------------------------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month in Europe/Oslo as aware datetimes ``[start, end)``."""
    start = dt.datetime.combine(month.replace(day=1), dt.time(), tzinfo=zone())
    return start, dt.datetime.combine(next_month(month), dt.time(), tzinfo=zone())


def parse_month(text: str | None, default: dt.date | None = None) -> dt.date:
    """``"2026-03"`` → 1 March 2026; empty → ``default`` (last month); anything else is a :class:`ReportError`."""
    if not text:
        return default or previous_month(timezone.localdate())
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise ReportError(_("A month is written YYYY-MM.")) from error


def version_for(contract, month: dt.date) -> LevelVersion | None:
    """The service-level version valid on the month's first day."""
    day = month.replace(day=1)
    return (
        LevelVersion.objects.filter(contract=contract, valid_from__lte=day)
        .exclude(valid_to__lt=day)
        .order_by("-valid_from")
        .first()
    )


def parse_tiers(data) -> tuple[compute.Tier, ...]:
    """``[{"below": "99.5", "credit": "5"}, ...]`` → tiers; anything malformed is a ``ValueError`` saying what."""
    if not isinstance(data, list):
        raise ValueError(_("Tiers are a list of {below, credit}."))
    tiers = []
    for item in data:
        if not isinstance(item, dict) or set(item) != {"below", "credit"}:
            raise ValueError(_("Each tier has exactly 'below' and 'credit'."))
        try:
            below, credit = Decimal(str(item["below"])), Decimal(str(item["credit"]))
        except (InvalidOperation, TypeError) as error:
            raise ValueError(_("A tier's figures must be numbers.")) from error
        if not (0 <= below <= 100 and 0 <= credit <= 100) or not below.is_finite() or not credit.is_finite():
            raise ValueError(_("A tier's figures are percentages from 0 to 100."))
        tiers.append(compute.Tier(below, credit))
    return tuple(tiers)


# ---------------------------------------------------------------------------------------------
# Inputs: exclusions, outages
# ---------------------------------------------------------------------------------------------


def exclusions_of(contract, start, end):
    """The contract's exclusions overlapping ``[start, end)``, and every case exclusion (matched by number)."""
    return Exclusion.objects.filter(contract=contract).filter(Q(starts__lt=end, ends__gt=start) | ~Q(case_number=""))


def outages_of(contract, start, end):
    return Outage.objects.filter(contract=contract, starts__lt=end).filter(Q(ends__isnull=True) | Q(ends__gt=start))


def import_major_incidents(contract, month: dt.date, *, user=None) -> int:
    """Record an outage for each major incident of the contract's services in the month (once per case)."""
    version = version_for(contract, month)
    if version is None:
        return 0
    start, end = month_bounds(month)
    service_ids = {level.service_id for level in version.availability_levels.all()}
    made = 0
    for major in cases.major_incidents(service_ids, start, end):
        if Outage.objects.filter(contract=contract, case_number=major["number"]).exists():
            continue
        Outage.objects.create(
            contract=contract,
            service_id=major["service_id"],
            starts=major["created"],
            ends=major["resolved_at"],
            cause=major["title"][:500],
            source=Outage.Source.MAJOR_INCIDENT,
            case_number=major["number"],
            recorded_by=user,
        )
        made += 1
    return made


# ---------------------------------------------------------------------------------------------
# The month's figures
# ---------------------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    """Everything one contract's month came to, with the inputs (what the statement, report and pages show)."""

    contract: object
    month: dt.date
    version: LevelVersion | None
    attainment: dict = field(default_factory=dict)  # (service_id, priority) -> compute.LevelResult
    availability: dict = field(default_factory=dict)  # service_id -> compute.AvailabilityResult
    outages: list = field(default_factory=list)
    exclusions: list = field(default_factory=list)
    misses: list = field(default_factory=list)
    compensation: compute.Compensation | None = None
    services: dict = field(default_factory=dict)  # service_id -> name
    agency_attainment: dict = field(default_factory=dict)  # agency_id -> (met, resolved)


def _hours(calendar, start, end, pauses=()) -> float | None:
    """Business hours from ``start`` to ``end`` less the time the clock was paused waiting for the requester."""
    if end is None:
        return None
    return compute.net_seconds(calendar, start, end, pauses) / HOUR if end > start else 0.0


def month_figures(contract, month: dt.date, *, agency_ids=None, with_compensation: bool = True) -> MonthFigures:
    """Attainment, availability and the compensation of ``contract`` in ``month`` (see the module docstring)."""
    month = first_of_month(month)
    version = version_for(contract, month)
    figures = MonthFigures(contract, month, version)
    if version is None:
        return figures
    start, end = month_bounds(month)
    case_levels = list(version.case_levels.select_related("service"))
    availability_levels = list(version.availability_levels.select_related("service"))
    for level in case_levels + availability_levels:
        figures.services[level.service_id] = level.service.name
    exclusions = list(exclusions_of(contract, start, end).select_related("decided_by", "service"))
    figures.exclusions = exclusions
    excluded_cases = set(cases.case_ids_by_number([e.case_number for e in exclusions if e.case_number]).values())

    # Attainment: one pass over the month's incidents.
    levels = {
        (lv.service_id, lv.priority): (
            float(lv.response_hours) if lv.response_hours is not None else None,
            float(lv.resolution_hours),
            lv.required_pct,
        )
        for lv in case_levels
    }
    calendars = {(lv.service_id, lv.priority): cases.business_calendar(lv.service_hours) for lv in case_levels}
    # When the vendor set each case resolved: by the vendor's own clock where its pushes and polls kept it (exact),
    # else when Kompass applied the vendor's change (later by the sync delay).
    vendor_times = cases.vendor_resolution_times(start - dt.timedelta(days=1), end)
    vendor_times.update(vendors.vendor_resolution_moments(vendor_times))
    service_ids = {lv.service_id for lv in case_levels}
    agency_counts: dict[int, list[int]] = {}

    def facts():
        for (
            pk,
            service_id,
            priority,
            agency_id,
            created,
            responded,
            resolved,
            pauses,
        ) in cases.performance_rows_with_pauses(service_ids, start, end, agency_ids=agency_ids):
            calendar = calendars.get((service_id, priority))
            if calendar is None:
                continue
            vendor = vendor_times.get(pk)
            fact = compute.CaseFacts(
                case_id=pk,
                service_id=service_id,
                priority=priority,
                agency_id=agency_id,
                created=created,
                resolved_at=resolved,
                response_hours=_hours(calendar, created, responded),
                resolution_hours=_hours(calendar, created, resolved, pauses),
                vendor_resolution_hours=_hours(calendar, created, vendor, pauses) if vendor else None,
                excluded=pk in excluded_cases,
            )
            if resolved is not None and start <= resolved < end and not fact.excluded:
                target = levels[(service_id, priority)][1]
                counts = agency_counts.setdefault(agency_id, [0, 0])
                counts[0] += fact.resolution_hours <= target
                counts[1] += 1
            yield fact

    figures.attainment = compute.attainment(facts(), levels, month_start=start, month_end=end, counts=version.counts)
    figures.agency_attainment = {a: tuple(v) for a, v in agency_counts.items()}

    # Availability per service, inside its service hours.
    outages = list(outages_of(contract, start, end).select_related("service"))
    figures.outages = outages
    now = timezone.now()
    for level in availability_levels:
        spans = [(o.starts, o.ends or min(now, end)) for o in outages if o.service_id == level.service_id]
        holes = [
            (e.starts, e.ends)
            for e in exclusions
            if e.starts and e.ends and (e.service_id is None or e.service_id == level.service_id)
        ]
        figures.availability[level.service_id] = compute.availability(
            cases.business_calendar(level.service_hours), start, end, spans, holes, target_pct=level.target_pct
        )

    # The levels as credit lines, in a stable order: availability first, then cases by service and priority.
    for level in availability_levels:
        result = figures.availability[level.service_id]
        figures.misses.append(
            compute.Miss(
                label=_("%(service)s: availability %(target)s %%")
                % {"service": level.service.name, "target": level.target_pct.normalize()},
                measured=result.available_pct,
                target=level.target_pct,
                tiers=parse_tiers(level.tiers),
                key=f"availability:{level.service_id}",
            )
        )
    for level in case_levels:
        result = figures.attainment[(level.service_id, level.priority)]
        figures.misses.append(
            compute.Miss(
                label=f"{level.service.name}: {level}",
                measured=result.attainment_pct,
                target=level.required_pct,
                credit_pct=level.credit_pct,
                key=f"resolution:{level.service_id}:{level.priority}",
            )
        )
    if with_compensation:
        figures.compensation = compensation_for(contract, month, version, figures.misses)
    return figures


#: How long the scorecard shows an open month's stored figures without asking for new ones even when nothing
#: audited happened (seconds): what changes with time alone (an outage still running, the backlog) or through
#: unaudited bulk writes shows within this plus one computation.
FIGURES_MAX_AGE_SECONDS = 600


def audit_watermark() -> int:
    """The newest audit entry's id: stored figures computed before it may be out of date."""
    from auditlog.models import LogEntry

    return LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@dataclass
class Scorecard:
    """The scorecard's figures of a contract and month as the page shows them (see :class:`ScorecardFigures`)."""

    contract: object
    month: dt.date
    version: LevelVersion | None
    rows: list
    compensation: dict | None
    trend: list
    computed_at: dt.datetime | None
    agencies: dict = field(default_factory=dict)  # agency id -> (met, resolved): resolution attainment per agency
    stale: bool = False  # something changed since; the worker is computing them again


def _scorecard_rows(figures: MonthFigures) -> list[dict]:
    """The scorecard's rows as JSON, one per level, without translated text (the page adds the labels)."""
    lines = {line.key: line for line in figures.compensation.lines} if figures.compensation else {}
    rows = []
    for service_id, result in figures.availability.items():
        line = lines.get(f"availability:{service_id}")
        rows.append(
            {
                "kind": "availability",
                "service": figures.services.get(service_id),
                "service_id": service_id,
                "measured": _json(compute.pct(result.available_pct, 3)),
                "target": _json(result.target_pct),
                "missed": result.missed,
                "down_hours": round(result.downtime_seconds / 3600, 2),
                "total_hours": round(result.service_seconds / 3600, 2),
                "amount": _json(line.amount) if line else None,
            }
        )
    for (service_id, priority), result in sorted(figures.attainment.items()):
        line = lines.get(f"resolution:{service_id}:{priority}")
        rows.append(
            {
                "kind": "resolution",
                "service": figures.services.get(service_id),
                "service_id": service_id,
                "priority": priority,
                "target_hours": _json(result.resolution_target_hours),
                "measured": _json(compute.pct(result.attainment_pct, 1)),
                "vendor_measured": _json(compute.pct(result.vendor_attainment_pct, 1)),
                "counts": result.counts,
                "target": _json(result.required_pct),
                "missed": result.missed,
                "resolved": result.resolved,
                "median_hours": result.median_resolution_hours,
                "p90_hours": result.p90_resolution_hours,
                "backlog": result.backlog,
                "amount": _json(line.amount) if line else None,
            }
        )
    return rows


#: The shape of :func:`scorecard_data`: stored figures of another shape are computed again before they are shown.
SCORECARD_FORMAT = 2


def scorecard_data(contract, month: dt.date) -> dict:
    """Compute what the scorecard shows of ``contract`` in ``month`` (the month, its trend), as JSON."""
    figures = month_figures(contract, month)
    comp = figures.compensation
    return {
        "format": SCORECARD_FORMAT,
        "version_id": figures.version.pk if figures.version else None,
        "agencies": {str(agency): list(counts) for agency, counts in figures.agency_attainment.items()},
        "rows": _scorecard_rows(figures),
        "compensation": {"total": _json(comp.total), "uncapped": _json(comp.uncapped)} if comp else None,
        "trend": [{k: _json(v) for k, v in r.items()} for r in trend(contract, month, current_figures=figures)],
    }


def _decimal(value):
    return Decimal(value) if value is not None else None


def _scorecard_of(contract, month: dt.date, row, *, stale: bool) -> Scorecard:
    data = row.data
    version = LevelVersion.objects.filter(pk=data["version_id"]).first() if data.get("version_id") else None
    rows = [
        {
            **r,
            **{k: _decimal(r.get(k)) for k in ("measured", "vendor_measured", "target", "amount")},
        }
        for r in data["rows"]
    ]
    comp = data.get("compensation")
    trend_rows = [
        {
            **r,
            "month": dt.date.fromisoformat(r["month"]),
            "attainment": _decimal(r["attainment"]),
            "availability": _decimal(r["availability"]),
        }
        for r in data["trend"]
    ]
    return Scorecard(
        contract=contract,
        month=month,
        version=version,
        rows=rows,
        compensation={k: Decimal(v) for k, v in comp.items()} if comp else None,
        trend=trend_rows,
        computed_at=row.computed_at,
        agencies={int(agency): tuple(counts) for agency, counts in data["agencies"].items()},
        stale=stale,
    )


def refresh_scorecard(contract, month: dt.date):
    """Compute the scorecard's figures of ``contract`` in ``month`` now and store them (the worker's job, and the
    page's when nothing usable is stored). Returns the stored row. A store never replaces figures computed from a
    newer audit watermark or inputs generation."""
    month = first_of_month(month)
    row, _created = ScorecardFigures.objects.get_or_create(
        contract=contract, month=month, defaults={"state": ScorecardFigures.State.DONE}
    )
    generation = row.inputs_generation  # read (or made) just now, before the month is computed
    watermark = audit_watermark()
    data = scorecard_data(contract, month)
    now = timezone.now()
    ScorecardFigures.objects.filter(pk=row.pk, watermark__lte=watermark, computed_generation__lte=generation).update(
        data=data, watermark=watermark, computed_generation=generation, computed_at=now, updated=now
    )
    row.refresh_from_db()
    return row


def ask_for_scorecard(row) -> bool:
    """Ask the ``default`` worker to compute ``row``'s figures again, unless it is asked already (one job per
    contract and month). True if this call asked."""
    asked = durable.retry(ScorecardFigures, [row.pk], states=(ScorecardFigures.State.DONE,))
    if asked:
        durable.kick(ScorecardFigures)
    return bool(asked)


def _stale(row, watermark: int, now: dt.datetime) -> bool:
    if row.watermark < watermark:
        return True
    _start, end = month_bounds(row.month)
    return end > row.computed_at and (now - row.computed_at).total_seconds() > FIGURES_MAX_AGE_SECONDS


def scorecard(contract, month: dt.date) -> Scorecard:
    """The scorecard of ``contract`` in ``month`` for the page: the stored figures, with the time they were
    computed; when something changed since, the worker is asked to compute them again and the page says so
    (``stale``). Computed here and now only when nothing usable is stored: the month was never shown, this app's
    own inputs changed since (an exclusion just recorded shows at once), or the worker gave up on it."""
    month = first_of_month(month)
    row = ScorecardFigures.objects.filter(contract=contract, month=month).first()
    if (
        row is None
        or row.data.get("format") != SCORECARD_FORMAT
        or row.computed_at is None
        or row.computed_generation < row.inputs_generation
        or row.state == ScorecardFigures.State.DEAD
    ):
        return _scorecard_of(contract, month, refresh_scorecard(contract, month), stale=False)
    stale = _stale(row, audit_watermark(), timezone.now())
    if stale:
        ask_for_scorecard(row)
    return _scorecard_of(contract, month, row, stale=stale)


def inputs_changed(contract_id) -> None:
    """This app's inputs of ``contract_id``'s figures changed (a level, outage, exclusion, statement, adjustment):
    its stored scorecard figures are not shown again before they are computed anew."""
    if contract_id is not None:
        ScorecardFigures.objects.filter(contract_id=contract_id).update(inputs_generation=F("inputs_generation") + 1)


def refresh_open_scorecards() -> int:
    """The schedule's part: ask the worker for new figures of this and last month of every contract that has
    stored figures out of date, so the first look of the day finds them ready. Returns how many were asked for."""
    now = timezone.now()
    watermark = audit_watermark()
    this_month = first_of_month(timezone.localdate())
    asked = 0
    for contract in contracts.contracts():
        if version_for(contract, this_month) is not None:
            # a new month's row is pending from the start
            asked += ScorecardFigures.objects.get_or_create(contract=contract, month=this_month)[1]
    if asked:
        durable.kick(ScorecardFigures)
    for row in ScorecardFigures.objects.filter(
        month__gte=previous_month(this_month), state=ScorecardFigures.State.DONE
    ).exclude(computed_at=None):
        if _stale(row, watermark, now) and ask_for_scorecard(row):
            asked += 1
    return asked


def compensation_for(contract, month, version, misses, *, statement: Statement | None = None) -> compute.Compensation:
    earlier = sum(
        (
            s.total - s.adjustments
            for s in Statement.objects.filter(contract=contract, month__year=month.year, month__lt=month)
        ),
        Decimal(0),
    )
    adjustments = []
    if statement is None:
        statement = Statement.objects.filter(contract=contract, month=month).first()
    if statement is not None:
        adjustments = [a.amount for a in statement.adjustment_rows.all()]
    return compute.compensation(
        contract.monthly_fee or Decimal(0),
        misses,
        accumulation=version.accumulation,
        monthly_cap_pct=version.monthly_cap_pct,
        yearly_cap_pct=version.yearly_cap_pct,
        earlier_this_year=earlier,
        adjustments=adjustments,
    )


def trend(contract, month: dt.date, *, months: int = 12, agency_ids=None, current_figures=None) -> list[dict]:
    """The last ``months`` months up to ``month``: overall resolution attainment, lowest availability and the
    levels missed per month. A month with a statement is read from the statement's recorded inputs (what both
    parties see); the others (and every month when ``agency_ids`` narrows the cases) are computed, the month asked
    for from ``current_figures`` when the caller has them already."""
    rows = []
    current = first_of_month(month)
    stored = {}
    if agency_ids is None:
        stored = {
            st.month: st
            for st in Statement.objects.filter(contract=contract, month__lte=current).prefetch_related("lines")
        }
    for _i in range(months):
        statement = stored.get(current)
        if statement is not None and current != first_of_month(month):
            attainment = statement.inputs.get("attainment", {}).values()
            met = sum(a["met"] for a in attainment)
            resolved = sum(a["met"] + a["missed"] for a in attainment)
            available = [
                Decimal(a["available_pct"])
                for a in statement.inputs.get("availability", {}).values()
                if a["available_pct"] is not None
            ]
            missed = sum(1 for line in statement.lines.all() if line.missed)
        else:
            if current_figures is not None and current == current_figures.month:
                figures = current_figures
            else:
                figures = month_figures(contract, current, agency_ids=agency_ids, with_compensation=False)
            met = sum(r.resolution_met for r in figures.attainment.values())
            resolved = sum(r.resolved for r in figures.attainment.values())
            available = [a.available_pct for a in figures.availability.values() if a.available_pct is not None]
            missed = sum(1 for m in figures.misses if m.missed)
        rows.append(
            {
                "month": current,
                "resolved": resolved,
                "met": met,
                "attainment": compute.pct(Decimal(met) * 100 / resolved, 1) if resolved else None,
                "availability": compute.pct(min(available), 3) if available else None,
                "missed_levels": missed,
            }
        )
        current = previous_month(current)
    return list(reversed(rows))


# ---------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def inputs_of(figures: MonthFigures) -> dict:
    """The statement's record of every input (JSON)."""
    comp = figures.compensation
    return {
        "version": str(figures.version) if figures.version else None,
        "version_id": figures.version.pk if figures.version else None,
        "monthly_fee": _json(comp.monthly_fee),
        "accumulation": comp.accumulation,
        "monthly_cap": _json(comp.monthly_cap),
        "yearly_cap": _json(comp.yearly_cap),
        "earlier_this_year": _json(comp.earlier_this_year),
        "after_monthly_cap": _json(comp.after_monthly_cap),
        "after_yearly_cap": _json(comp.after_yearly_cap),
        "availability": {
            str(service_id): {
                "service_seconds": r.service_seconds,
                "downtime_seconds": r.downtime_seconds,
                "excluded_seconds": r.excluded_seconds,
                "available_pct": _json(compute.pct(r.available_pct, 4)),
                "target_pct": _json(r.target_pct),
            }
            for service_id, r in figures.availability.items()
        },
        "attainment": {
            f"{s}:{p}": {
                "resolved": r.resolved,
                "met": r.resolution_met,
                "missed": r.resolution_missed,
                "excluded": r.excluded,
                "attainment_pct": _json(compute.pct(r.attainment_pct, 4)),
                "required_pct": _json(r.required_pct),
                "counts": r.counts,
                "vendor_met": r.vendor_resolution_met,
                "vendor_missed": r.vendor_resolution_missed,
            }
            for (s, p), r in figures.attainment.items()
        },
        "outages": [
            {"service": o.service_id, "starts": _json(o.starts), "ends": _json(o.ends), "cause": o.cause}
            for o in figures.outages
        ],
        "exclusions": [
            {
                "kind": e.kind,
                "starts": _json(e.starts),
                "ends": _json(e.ends),
                "case": e.case_number,
                "reason": e.reason,
                "decided_by": str(e.decided_by),
            }
            for e in figures.exclusions
        ],
    }


@transaction.atomic
def build_statement(contract, month: dt.date, *, figures: MonthFigures | None = None) -> Statement:
    """Compute (or recompute) the month's statement. A recomputed line whose figures changed loses its
    acceptances; open disputes stay with their line."""
    month = first_of_month(month)
    figures = figures or month_figures(contract, month)
    if figures.version is None:
        raise ReportError(_("The contract has no service levels valid in %(month)s.") % {"month": f"{month:%m.%Y}"})
    statement = Statement.objects.select_for_update().filter(contract=contract, month=month).first()
    comp = figures.compensation
    fields = {
        "monthly_fee": comp.monthly_fee,
        "uncapped": comp.uncapped,
        "capped": comp.after_yearly_cap,
        "adjustments": comp.adjustments,
        "total": comp.total,
        "inputs": inputs_of(figures),
        "computed": timezone.now(),
    }
    if statement is None:
        statement = Statement.objects.create(contract=contract, month=month, **fields)
    else:
        for name, value in fields.items():
            setattr(statement, name, value)
        statement.save()
    kept = set()
    for line in comp.lines:
        measured = compute.pct(line.measured, 4)
        row, created = StatementLine.objects.get_or_create(
            statement=statement,
            key=line.key,
            defaults={
                "label": line.label[:300],
                "measured": measured,
                "target": line.target,
                "missed": line.missed,
                "percent": line.percent,
                "amount": line.amount,
            },
        )
        if not created and (row.measured, row.amount, row.missed) != (measured, line.amount, line.missed):
            row.label, row.measured, row.target = line.label[:300], measured, line.target
            row.missed, row.percent, row.amount = line.missed, line.percent, line.amount
            row.customer_accepted = row.vendor_accepted = False
            row.save()
        kept.add(row.pk)
    statement.lines.exclude(pk__in=kept).filter(disputes__isnull=True).delete()
    return statement


def party_of(user, contract) -> str | None:
    """``"customer"`` for the agreement manager (and administrators), ``"vendor"`` for a representative the
    contract names, else ``None``."""
    roles = access.roles_of(user)
    if roles.is_admin or Role.AGREEMENT_MANAGER in roles:
        return Dispute.Party.CUSTOMER
    if Role.VENDOR_REPRESENTATIVE in roles and contracts.is_vendor_representative(contract, user):
        return Dispute.Party.VENDOR
    return None


def _party_or_refuse(user, contract) -> str:
    party = party_of(user, contract)
    if party is None:
        raise PermissionDenied(_("Only the contract's parties may do this."))
    return party


def accept_line(line: StatementLine, *, user) -> StatementLine:
    party = _party_or_refuse(user, line.statement.contract)
    if line.disputes.filter(resolved_at__isnull=True).exists():
        raise ReportError(_("A disputed line is accepted once its dispute is resolved."))
    if party == Dispute.Party.CUSTOMER:
        line.customer_accepted = True
    else:
        line.vendor_accepted = True
    line.save(update_fields=["customer_accepted", "vendor_accepted"])
    return line


def dispute_line(line: StatementLine, *, user, reason: str) -> Dispute:
    party = _party_or_refuse(user, line.statement.contract)
    if not (reason or "").strip():
        raise ReportError(_("Say why the line is disputed."))
    if line.disputes.filter(resolved_at__isnull=True).exists():
        raise ReportError(_("This line already has an open dispute."))
    with transaction.atomic():
        dispute = Dispute.objects.create(line=line, party=party, raised_by=user, reason=reason.strip())
        line.customer_accepted = line.vendor_accepted = False
        line.save(update_fields=["customer_accepted", "vendor_accepted"])
        _notify_dispute(dispute, "raised")
    return dispute


def answer_dispute(dispute: Dispute, *, user, answer: str) -> Dispute:
    """The other party answers (the vendor's representative answers the customer's dispute and vice versa)."""
    party = _party_or_refuse(user, dispute.line.statement.contract)
    if dispute.resolved_at:
        raise ReportError(_("This dispute is resolved."))
    if party == dispute.party:
        raise ReportError(_("The other party answers a dispute."))
    if not (answer or "").strip():
        raise ReportError(_("Write an answer."))
    dispute.answer, dispute.answered_by, dispute.answered_at = answer.strip(), user, timezone.now()
    dispute.save(update_fields=["answer", "answered_by", "answered_at"])
    _notify_dispute(dispute, "answered")
    return dispute


def resolve_dispute(dispute: Dispute, *, user, resolution: str) -> Dispute:
    """The agreement manager closes a dispute with what was agreed (an adjustment, if any, is recorded apart)."""
    if _party_or_refuse(user, dispute.line.statement.contract) != Dispute.Party.CUSTOMER:
        raise PermissionDenied(_("The agreement manager resolves disputes."))
    if dispute.resolved_at:
        raise ReportError(_("This dispute is resolved."))
    if not (resolution or "").strip():
        raise ReportError(_("Say how the dispute was resolved."))
    dispute.resolution, dispute.resolved_by, dispute.resolved_at = resolution.strip(), user, timezone.now()
    dispute.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    return dispute


def add_adjustment(statement: Statement, *, user, amount, reason: str) -> Adjustment:
    """A manual adjustment (NOK) with its reason; the approver is the agreement manager recording it."""
    if _party_or_refuse(user, statement.contract) != Dispute.Party.CUSTOMER:
        raise PermissionDenied(_("The agreement manager approves adjustments."))
    try:
        amount = compute.money(Decimal(str(amount)))
    except (InvalidOperation, TypeError) as error:
        raise ReportError(_("The amount must be a number.")) from error
    if not amount.is_finite() or abs(amount) > Decimal("1e9"):
        raise ReportError(_("The amount is out of range."))
    if not (reason or "").strip():
        raise ReportError(_("Give the reason for the adjustment."))
    with transaction.atomic():
        adjustment = Adjustment.objects.create(
            statement=statement, amount=amount, reason=reason.strip(), approved_by=user
        )
        build_statement(statement.contract, statement.month)
    return adjustment


def record_exclusion(
    contract, *, user, kind, reason, starts=None, ends=None, case_number="", service=None
) -> Exclusion:
    exclusion = Exclusion(
        contract=contract,
        kind=kind,
        reason=(reason or "").strip(),
        starts=starts,
        ends=ends,
        case_number=(case_number or "").strip(),
        service=service,
        decided_by=user,
    )
    exclusion.full_clean()
    exclusion.save()
    return exclusion


def _notify_dispute(dispute: Dispute, what: str) -> None:
    from kompass.notifications import services as notifications

    contract = dispute.line.statement.contract
    if (
        dispute.party == Dispute.Party.CUSTOMER
        and what == "raised"
        or (dispute.party == Dispute.Party.VENDOR and what == "answered")
    ):
        recipients = list(contract.vendor_representatives.filter(is_active=True))
    else:
        recipients = [contract.customer_representative] if contract.customer_representative_id else []
    if not recipients:
        return
    notifications.send(
        event="reports.dispute",
        recipients=recipients,
        template="reports/notifications/dispute",
        context={"line": dispute.line.label, "what": what, "url": dispute.get_absolute_url()},
        key=f"reports:dispute:{dispute.pk}:{what}",
        obj=dispute.line.statement,
    )


def missed_case_ids(contract, month: dt.date, service_id: int, priority: int, *, agency_ids=None) -> list[int]:
    """The cases behind a missed level (for the drill-down)."""
    figures = month_figures(contract, month, agency_ids=agency_ids, with_compensation=False)
    result = figures.attainment.get((service_id, priority))
    return result.missed_case_ids if result else []


# ---------------------------------------------------------------------------------------------
# Editing the definitions
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def copy_version(version: LevelVersion, *, name: str, valid_from: dt.date, valid_to: dt.date | None) -> LevelVersion:
    """A new version of the same contract with every case and availability level of ``version`` copied (the
    usual way to change the levels from a date on: end the old version the day before, then copy and edit).
    The validity must not overlap another version (a ``ValidationError`` saying which)."""
    new = LevelVersion(
        contract=version.contract,
        name=name.strip(),
        valid_from=valid_from,
        valid_to=valid_to,
        monthly_cap_pct=version.monthly_cap_pct,
        yearly_cap_pct=version.yearly_cap_pct,
        accumulation=version.accumulation,
        counts=version.counts,
    )
    new.full_clean()
    new.save()
    for level in version.case_levels.all():
        level.pk, level.id, level.version = None, None, new
        level._state.adding = True
        level.save()
    for level in version.availability_levels.all():
        level.pk, level.id, level.version = None, None, new
        level._state.adding = True
        level.save()
    return new
