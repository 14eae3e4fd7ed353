"""Vendor performance figures: attainment, availability and standardized compensation, with no Django in it.

Pure Python on purpose, like :mod:`kompass.cases.sla`: the numbers both parties sign must be checkable by hand
and testable without a database. The services module gathers the inputs (cases, outages, exclusions, the
service-level definitions of the month) and stores the results; this module computes.

* Money is :class:`~decimal.Decimal` in NOK, rounded to øre (``ROUND_HALF_UP``) only at the end of each line.
* Percentages are :class:`~decimal.Decimal` *per cent* (``Decimal("99.5")``); a measured percentage is kept
  exact for every comparison and only rounded for display (:func:`pct`).
* Availability is measured inside the service hours of a *calendar* (anything with
  ``business_seconds_between(start, end)``; the cases app's business calendars: 24×7, or 08–16 on working
  days in Europe/Oslo, across DST and Norwegian holidays). Outages and exclusions are merged first, so an hour
  is never counted twice.
* Compensation (bilag 5 as data): each missed level earns a credit, either a flat ``credit_pct`` of the monthly
  fee or, for availability, the percentage of the *tier* the measured figure falls in; the month's credits are
  summed (``accumulation="sum"``) or only the largest one is owed (``"max"``); the month is capped at
  ``monthly_cap_pct`` of the fee and the year at ``yearly_cap_pct`` of the fee (the credits already owed that
  year count against it); manual adjustments are added after the caps. The uncapped figure is always reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

__all__ = [
    "AvailabilityResult",
    "CaseFacts",
    "Compensation",
    "CreditLine",
    "LevelResult",
    "Miss",
    "Tier",
    "attainment",
    "availability",
    "compensation",
    "merge",
    "money",
    "net_seconds",
    "p90",
    "pct",
    "tier_credit",
]

HUNDRED = Decimal(100)
ØRE = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Round to øre."""
    return Decimal(value).quantize(ØRE, rounding=ROUND_HALF_UP)


def pct(value: Decimal | None, places: int = 2) -> Decimal | None:
    """A percentage rounded for display (``None`` stays ``None``)."""
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by the nearest-rank method (the smallest value with at least 90 % at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-9 * len(ordered) // 10)  # ceil(0.9 n)
    return ordered[rank - 1]


# ---------------------------------------------------------------------------------------------
# Attainment
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What one case contributes to a month: its moments and how long it took, in the level's business time.

    ``response_hours``/``resolution_hours`` are ``None`` while the case has not responded/resolved;
    ``vendor_resolution_hours`` is the same measured on the vendor's timestamp (e-bonding) when it has one.
    """

    case_id: int
    service_id: int
    priority: int
    agency_id: int
    created: datetime
    resolved_at: datetime | None = None
    response_hours: float | None = None
    resolution_hours: float | None = None
    vendor_resolution_hours: float | None = None
    excluded: bool = False


@dataclass
class LevelResult:
    """The figures of one service × priority in one month."""

    service_id: int
    priority: int
    response_target_hours: float | None
    resolution_target_hours: float | None
    required_pct: Decimal | None
    cases: int = 0
    excluded: int = 0
    response_met: int = 0
    response_missed: int = 0
    resolution_met: int = 0
    resolution_missed: int = 0
    median_resolution_hours: float | None = None
    p90_resolution_hours: float | None = None
    backlog: int = 0
    vendor_resolution_met: int = 0
    vendor_resolution_missed: int = 0
    counts: str = "kompass"
    missed_case_ids: list[int] = field(default_factory=list)

    @property
    def resolved(self) -> int:
        return self.resolution_met + self.resolution_missed

    @property
    def attainment_pct(self) -> Decimal | None:
        """Share of the resolved cases resolved within the target, in per cent (exact); ``None``: nothing resolved."""
        if not self.resolved:
            return None
        return Decimal(self.resolution_met) * HUNDRED / Decimal(self.resolved)

    @property
    def response_pct(self) -> Decimal | None:
        measured = self.response_met + self.response_missed
        return Decimal(self.response_met) * HUNDRED / Decimal(measured) if measured else None

    @property
    def vendor_attainment_pct(self) -> Decimal | None:
        total = self.vendor_resolution_met + self.vendor_resolution_missed
        return Decimal(self.vendor_resolution_met) * HUNDRED / Decimal(total) if total else None

    @property
    def missed(self) -> bool:
        """The level is missed when attainment falls below the required share (no resolved case: not missed)."""
        value = self.attainment_pct
        return value is not None and self.required_pct is not None and value < self.required_pct


def attainment(
    facts: Iterable[CaseFacts],
    levels: dict[tuple[int, int], tuple[float | None, float | None, Decimal | None]],
    *,
    month_start: datetime,
    month_end: datetime,
    counts: str = "kompass",
) -> dict[tuple[int, int], LevelResult]:
    """Per ``(service_id, priority)``: the month's figures against ``levels[(service, priority)]``
    (``(response_target_hours, resolution_target_hours, required_pct)``).

    A case counts in the month it was **resolved** in (``month_start <= resolved_at < month_end``); the backlog is
    the cases created before ``month_end`` and not resolved by then. Excluded cases are counted apart and measure
    nothing. ``counts`` says whose resolution timestamp decides (``"kompass"`` or ``"vendor"``); both are kept.
    """
    results: dict[tuple[int, int], LevelResult] = {}
    hours: dict[tuple[int, int], list[float]] = {}
    for key, (response, resolution, required) in levels.items():
        results[key] = LevelResult(key[0], key[1], response, resolution, required, counts=counts)
        hours[key] = []
    for fact in facts:
        key = (fact.service_id, fact.priority)
        result = results.get(key)
        if result is None:
            continue
        if fact.resolved_at is None or fact.resolved_at >= month_end:
            if fact.created < month_end:
                result.backlog += 1
            continue
        if fact.resolved_at < month_start:
            continue
        result.cases += 1
        if fact.excluded:
            result.excluded += 1
            continue
        if result.response_target_hours is not None and fact.response_hours is not None:
            if fact.response_hours <= result.response_target_hours:
                result.response_met += 1
            else:
                result.response_missed += 1
        if result.resolution_target_hours is None or fact.resolution_hours is None:
            continue
        own = fact.resolution_hours
        vendor = fact.vendor_resolution_hours
        if vendor is not None:
            if vendor <= result.resolution_target_hours:
                result.vendor_resolution_met += 1
            else:
                result.vendor_resolution_missed += 1
        deciding = vendor if counts == "vendor" and vendor is not None else own
        if deciding <= result.resolution_target_hours:
            result.resolution_met += 1
        else:
            result.resolution_missed += 1
            result.missed_case_ids.append(fact.case_id)
        hours[key].append(own)
    for key, result in results.items():
        values = hours[key]
        result.median_resolution_hours = round(median(values), 2) if values else None
        result.p90_resolution_hours = round(p90(values), 2) if values else None
    return results


# ---------------------------------------------------------------------------------------------
# Availability
# ---------------------------------------------------------------------------------------------


def merge(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, non-overlapping spans (touching spans are joined); empty and reversed spans are dropped."""
    merged: list[list[datetime]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _subtract(spans, holes):
    out = []
    for start, end in spans:
        pieces = [(start, end)]
        for h_start, h_end in holes:
            next_pieces = []
            for a, b in pieces:
                if h_end <= a or h_start >= b:
                    next_pieces.append((a, b))
                    continue
                if a < h_start:
                    next_pieces.append((a, h_start))
                if h_end < b:
                    next_pieces.append((h_end, b))
            pieces = next_pieces
        out.extend(pieces)
    return out


def _clip(spans, lo, hi):
    return [(max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi]


def net_seconds(calendar, start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime | None]] = ()):
    """Business seconds of ``calendar`` from ``start`` to ``end`` less the spans the clock was paused (waiting for
    the requester) inside them: pauses are clipped to ``[start, end]`` and merged first, so an overlap counts once;
    a pause with no end yet runs to ``end``."""
    total = calendar.business_seconds_between(start, end)
    if not pauses:
        return total
    spans = merge(_clip([(a, b if b is not None else end) for a, b in pauses], start, end))
    return total - sum(calendar.business_seconds_between(a, b) for a, b in spans)


@dataclass(frozen=True)
class AvailabilityResult:
    """One service's availability in one window, every input kept (seconds of service time)."""

    service_seconds: int
    downtime_seconds: int
    excluded_seconds: int
    target_pct: Decimal | None

    @property
    def available_pct(self) -> Decimal | None:
        """Exact: ``(service − downtime) / service × 100``; ``None`` when the window has no service hours."""
        if not self.service_seconds:
            return None
        return Decimal(self.service_seconds - self.downtime_seconds) * HUNDRED / Decimal(self.service_seconds)

    @property
    def allowed_downtime_seconds(self) -> Decimal | None:
        if self.target_pct is None:
            return None
        return Decimal(self.service_seconds) * (HUNDRED - self.target_pct) / HUNDRED

    @property
    def missed(self) -> bool:
        value = self.available_pct
        return value is not None and self.target_pct is not None and value < self.target_pct


def availability(
    calendar,
    start: datetime,
    end: datetime,
    outages: Iterable[tuple[datetime, datetime]],
    exclusions: Iterable[tuple[datetime, datetime]] = (),
    *,
    target_pct: Decimal | None = None,
) -> AvailabilityResult:
    """Availability inside ``calendar``'s service hours between ``start`` and ``end``.

    The excluded spans (agreed maintenance, customer-caused, force majeure) are taken out of the *service time*
    as well as the downtime, so an agreed maintenance window neither counts as downtime nor dilutes it.
    """
    holes = merge(_clip(list(exclusions), start, end))
    down = merge(_clip(list(outages), start, end))

    def seconds(spans) -> int:
        return sum(round(calendar.business_seconds_between(a, b)) for a, b in spans)

    excluded = seconds(holes)
    service = round(calendar.business_seconds_between(start, end)) - excluded
    downtime = seconds(_subtract(down, holes))
    return AvailabilityResult(service, downtime, excluded, target_pct)


# ---------------------------------------------------------------------------------------------
# Standardized compensation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """A shortfall tier: a measured figure *below* ``below_pct`` (and not below a lower tier) earns ``credit_pct``."""

    below_pct: Decimal
    credit_pct: Decimal


def tier_credit(measured: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """The credit percentage of the lowest tier whose ``below_pct`` the measured figure falls under (0: none)."""
    credit = Decimal(0)
    for tier in sorted(tiers, key=lambda t: t.below_pct, reverse=True):
        if measured < tier.below_pct:
            credit = tier.credit_pct
    return credit


@dataclass(frozen=True)
class Miss:
    """One level's outcome for the month: ``measured`` against ``target``; credit by ``tiers`` or a flat
    ``credit_pct``."""

    label: str
    measured: Decimal | None
    target: Decimal
    credit_pct: Decimal = Decimal(0)
    tiers: tuple[Tier, ...] = ()
    key: str = ""

    @property
    def missed(self) -> bool:
        return self.measured is not None and self.measured < self.target

    @property
    def percent(self) -> Decimal:
        if not self.missed:
            return Decimal(0)
        return tier_credit(self.measured, self.tiers) if self.tiers else self.credit_pct


@dataclass(frozen=True)
class CreditLine:
    label: str
    key: str
    measured: Decimal | None
    target: Decimal
    missed: bool
    percent: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Compensation:
    """The month's computation with every input shown."""

    monthly_fee: Decimal
    lines: tuple[CreditLine, ...]
    accumulation: str
    uncapped: Decimal
    monthly_cap: Decimal | None
    yearly_cap: Decimal | None
    earlier_this_year: Decimal
    after_monthly_cap: Decimal
    after_yearly_cap: Decimal
    adjustments: Decimal
    total: Decimal

    @property
    def capped(self) -> bool:
        return self.after_yearly_cap < self.uncapped

    @property
    def percent_of_fee(self) -> Decimal:
        return self.total * HUNDRED / self.monthly_fee if self.monthly_fee else Decimal(0)


def compensation(
    monthly_fee: Decimal,
    misses: Sequence[Miss],
    *,
    accumulation: str = "sum",
    monthly_cap_pct: Decimal | None = None,
    yearly_cap_pct: Decimal | None = None,
    earlier_this_year: Decimal = Decimal(0),
    adjustments: Iterable[Decimal] = (),
) -> Compensation:
    """The standardized compensation of one month (see the module docstring for the rules).

    ``earlier_this_year`` is what the previous months of the same calendar year came to (after their caps);
    the yearly cap is ``yearly_cap_pct`` of twelve monthly fees.
    """
    if accumulation not in ("sum", "max"):
        raise ValueError(f"unknown accumulation {accumulation!r}")
    fee = Decimal(monthly_fee)
    lines = tuple(
        CreditLine(m.label, m.key, m.measured, m.target, m.missed, m.percent, money(fee * m.percent / HUNDRED))
        for m in misses
    )
    amounts = [line.amount for line in lines]
    uncapped = sum(amounts, Decimal(0)) if accumulation == "sum" else max(amounts, default=Decimal(0))
    monthly_cap = money(fee * monthly_cap_pct / HUNDRED) if monthly_cap_pct is not None else None
    after_month = min(uncapped, monthly_cap) if monthly_cap is not None else uncapped
    yearly_cap = money(fee * 12 * yearly_cap_pct / HUNDRED) if yearly_cap_pct is not None else None
    if yearly_cap is not None:
        after_year = max(Decimal(0), min(after_month, yearly_cap - earlier_this_year))
    else:
        after_year = after_month
    adjusted = money(sum((Decimal(a) for a in adjustments), Decimal(0)))
    total = max(Decimal(0), after_year + adjusted)
    return Compensation(
        monthly_fee=fee,
        lines=lines,
        accumulation=accumulation,
        uncapped=money(uncapped),
        monthly_cap=monthly_cap,
        yearly_cap=yearly_cap,
        earlier_this_year=money(earlier_this_year),
        after_monthly_cap=money(after_month),
        after_yearly_cap=money(after_year),
        adjustments=adjusted,
        total=money(total),
    )
