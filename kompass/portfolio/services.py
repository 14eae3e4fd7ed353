"""The portfolio's operations: profiles on demand, the integration governance flow, transformation rules.

Views, API viewsets, the importer, demo data and commands all call these; none of them writes an
integration's status or a decision itself.

Governance (Digdir's provider/consumer steps): a system owner *requests* an integration
(:func:`request_integration`); the data owner on the providing side *approves* or *rejects* it with a
reason (:func:`approve_integration`, :func:`reject_integration`); only an approved integration can be
*activated* (:func:`activate_integration`); an active one is eventually *retired*. Each step is a
:class:`~kompass.portfolio.models.GovernanceDecision` row and an audit-log entry, in one transaction.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kompass.cases import services as cases_services
from kompass.core import access
from kompass.core.models import System
from kompass.portfolio.models import (
    GovernanceDecision,
    InfrastructureItem,
    Integration,
    MigrationWave,
    SystemProfile,
    Transformation,
)

__all__ = [
    "BurnDownPoint",
    "DependencyConflict",
    "GovernanceError",
    "activate_integration",
    "approve_integration",
    "burn_down",
    "case_figures",
    "change_request",
    "conflict_summary",
    "dependency_conflicts",
    "may_request",
    "may_review",
    "plan_wave",
    "profile_of",
    "progress_by_agency",
    "reject_integration",
    "request_integration",
    "retire_integration",
    "sync_agencies",
    "transformation_of",
]


class GovernanceError(ValidationError):
    """A governance step that the integration's state does not allow (e.g. activating a request)."""


# ---------------------------------------------------------------------------------------------
# Systems: the one-to-one rows beside core's System
# ---------------------------------------------------------------------------------------------


def profile_of(system: System) -> SystemProfile:
    """The system's portfolio profile, created with defaults the first time it is asked for."""
    profile, _created = SystemProfile.objects.get_or_create(system=system)
    return profile


def transformation_of(system: System) -> Transformation:
    """The system's transformation row, created (status "assessed", path rehost) the first time."""
    transformation, _created = Transformation.objects.get_or_create(system=system)
    return transformation


def case_figures(system: System, user) -> dict:
    """The system's cases that ``user`` may see (open and total counts, the latest open ones), from the cases app."""
    return cases_services.cases_of_system(system, user)


# ---------------------------------------------------------------------------------------------
# Integrations: who may act, and the governance flow
# ---------------------------------------------------------------------------------------------


def sync_agencies(integration: Integration) -> None:
    """Set the agencies that see the integration: those owning its provider and consumer systems."""
    ids = {s.agency_id for s in (integration.provider_system, integration.consumer_system) if s is not None}
    integration.agencies.set(ids)


def may_request(user, integration: Integration) -> bool:
    """A system owner (or agency administrator) of either internal side may request the integration."""
    return any(
        access.can(user, "request_integration", SystemProfile(system=system))
        for system in (integration.consumer_system, integration.provider_system)
        if system is not None
    )


def may_review(user, integration: Integration) -> bool:
    """The data owner on the providing side reviews; for an external provider, the central governance."""
    if integration.provider_system_id:
        allowed = access.can(user, "review_integration", SystemProfile(system=integration.provider_system))
    else:
        allowed = access.can(user, "review_external", integration)
    # Separation of duties: nobody approves their own request.
    return allowed and integration.requested_by_id != getattr(user, "pk", None)


def _decide(integration: Integration, kind: str, user, reason: str = "") -> GovernanceDecision:
    return GovernanceDecision.objects.create(integration=integration, kind=kind, decided_by=user, reason=reason)


def request_integration(user, *, data_sets: Iterable = (), **fields) -> Integration:
    """Record a requested integration (``fields`` are Integration fields); validated, nothing active yet.

    Raises ``PermissionDenied`` unless ``user`` may request for one of its systems and ``ValidationError``
    with the field errors (e.g. the legal basis missing although personal data flows).
    """
    fields.pop("status", None)
    fields.pop("approved_at", None)
    integration = Integration(**fields, status=Integration.Status.REQUESTED, requested_by=user)
    if not may_request(user, integration):
        raise PermissionDenied
    data_sets = list(data_sets)
    if any(d.personal_data for d in data_sets):
        integration.personal_data = True  # a data set with personal data makes the flow personal
    integration.full_clean(exclude=["requested_by", "agencies"])
    with transaction.atomic(), set_actor(user):
        integration.save()
        integration.data_sets.set(data_sets)
        sync_agencies(integration)
        _decide(integration, GovernanceDecision.Kind.REQUESTED, user)
    return integration


def change_request(integration: Integration, user, *, data_sets: Iterable | None = None, **fields) -> Integration:
    """Change a still-requested integration (``fields`` as for :func:`request_integration`), validated.

    Only a request can be edited; a change to an approved or active integration is requested as a new
    integration that replaces it (``supersedes``). Status, approval and requester never change here.
    """
    for name in ("status", "approved_at", "requested_by", "supersedes"):
        fields.pop(name, None)
    if integration.status != Integration.Status.REQUESTED:
        raise GovernanceError(_("Only a requested integration can be edited; request a replacement instead."))
    if not access.can(user, "change", integration):
        raise PermissionDenied
    for name, value in fields.items():
        setattr(integration, name, value)
    if not may_request(user, integration):  # nobody moves a request away from their own systems
        raise PermissionDenied
    data_sets = None if data_sets is None else list(data_sets)
    if data_sets and any(d.personal_data for d in data_sets):
        integration.personal_data = True
    integration.full_clean(exclude=["requested_by", "agencies"])
    with transaction.atomic(), set_actor(user):
        integration.save()
        if data_sets is not None:
            integration.data_sets.set(data_sets)
        sync_agencies(integration)
    return integration


def _locked(integration: Integration) -> Integration:
    """Re-read the row under a lock, so two reviewers cannot both decide the same request."""
    return Integration.objects.select_for_update().get(pk=integration.pk)


def approve_integration(integration: Integration, user, *, reason: str = "") -> Integration:
    """The providing side approves a requested integration."""
    if not may_review(user, integration):
        raise PermissionDenied
    with transaction.atomic(), set_actor(user):
        current = _locked(integration)
        if current.status != Integration.Status.REQUESTED:
            raise GovernanceError(_("Only a requested integration can be approved."))
        if current.carries_personal_data() and not (current.legal_basis_kind and current.legal_basis_reference):
            raise GovernanceError(_("Personal data flows: give the legal basis before approving."))
        current.status = Integration.Status.APPROVED
        current.approved_at = timezone.now()
        current.save(update_fields=["status", "approved_at", "updated"])
        _decide(current, GovernanceDecision.Kind.APPROVED, user, reason)
    return current


def reject_integration(integration: Integration, user, *, reason: str) -> Integration:
    """The providing side rejects a requested integration; the reason is required."""
    if not may_review(user, integration):
        raise PermissionDenied
    if not (reason or "").strip():
        raise GovernanceError({"reason": _("Give the reason for the rejection.")})
    with transaction.atomic(), set_actor(user):
        current = _locked(integration)
        if current.status != Integration.Status.REQUESTED:
            raise GovernanceError(_("Only a requested integration can be rejected."))
        current.status = Integration.Status.REJECTED
        current.save(update_fields=["status", "updated"])
        _decide(current, GovernanceDecision.Kind.REJECTED, user, reason.strip())
    return current


def activate_integration(integration: Integration, user) -> Integration:
    """Put an approved integration in production; the integration it replaces (if any) is retired."""
    if not access.can(user, "change", integration):
        raise PermissionDenied
    with transaction.atomic(), set_actor(user):
        current = _locked(integration)
        if current.status != Integration.Status.APPROVED or current.approved_at is None:
            raise GovernanceError(_("Only an approved integration can be activated."))
        current.status = Integration.Status.ACTIVE
        current.save(update_fields=["status", "updated"])
        _decide(current, GovernanceDecision.Kind.ACTIVATED, user)
        old = current.supersedes
        if old is not None and old.status == Integration.Status.ACTIVE:
            old.status = Integration.Status.RETIRED
            old.save(update_fields=["status", "updated"])
            _decide(old, GovernanceDecision.Kind.RETIRED, user, _("Replaced by %(name)s.") % {"name": current.name})
    return current


def retire_integration(integration: Integration, user, *, reason: str = "") -> Integration:
    """Take an active integration out of production."""
    if not access.can(user, "change", integration):
        raise PermissionDenied
    with transaction.atomic(), set_actor(user):
        current = _locked(integration)
        if current.status != Integration.Status.ACTIVE:
            raise GovernanceError(_("Only an active integration can be retired."))
        current.status = Integration.Status.RETIRED
        current.save(update_fields=["status", "updated"])
        _decide(current, GovernanceDecision.Kind.RETIRED, user, reason)
    return current


# ---------------------------------------------------------------------------------------------
# Transformation: dependency conflicts, planning, burn-down, progress
# ---------------------------------------------------------------------------------------------

#: Integrations that make the consumer depend on the provider for the move.
_BINDING_STATUSES = (Integration.Status.APPROVED, Integration.Status.ACTIVE)


@dataclass(frozen=True)
class DependencyConflict:
    """``system`` is planned to move before ``depends_on`` although ``integration`` is not tolerant."""

    system_id: int
    depends_on_id: int
    integration_id: int
    reason: str


def dependency_conflicts(
    *, system_ids: Iterable[int] | None = None, limit: int | None = None
) -> list[DependencyConflict]:
    """Systems planned in a wave before a system they depend on (through a non-tolerant integration).

    The consumer of an approved or active integration depends on its provider. A conflict is a consumer
    with a wave, not yet moved, whose provider has not moved and has no wave or a wave that starts later.
    Moving together (the same wave, or a wave starting the same day) is fine.

    One query: the rule is a join of each edge with both sides' transformations, so only the conflicts
    leave the database. ``limit``: only the first ``limit`` (in integration order) are built; see
    :func:`conflict_summary` for those and the number of all in the same one query.
    """
    return conflict_summary(system_ids=system_ids, limit=limit)[1]


def conflict_summary(
    *, system_ids: Iterable[int] | None = None, limit: int | None = None
) -> tuple[int, list[DependencyConflict]]:
    """``(number of conflicts, the first `limit` of them)``, from one query (no ``ORDER BY`` in SQL)."""
    rows = list(
        _conflict_edges(system_ids)
        .order_by()
        .values_list("pk", "consumer_system_id", "provider_system_id", "provider_system__transformation__wave__name")
    )
    rows.sort()
    conflicts = []
    for pk, consumer, provider, wave_name in rows if limit is None else rows[:limit]:
        if wave_name is None:
            reason = _("depends on a system that has no migration wave")
        else:
            reason = _("depends on a system in a later wave (%(wave)s)") % {"wave": wave_name}
        conflicts.append(DependencyConflict(consumer, provider, pk, reason))
    return len(rows), conflicts


def _conflict_edges(system_ids):
    mine, theirs = "consumer_system__transformation__", "provider_system__transformation__"
    edges = Integration.objects.filter(
        status__in=_BINDING_STATUSES,
        tolerant=False,
        provider_system__isnull=False,
        consumer_system__isnull=False,
        **{f"{mine}wave__isnull": False},
    ).exclude(**{f"{mine}status__in": Transformation.DONE_STATUSES})
    if hasattr(system_ids, "query") and not system_ids.query.has_filters():
        system_ids = None  # the user sees every system: no subquery
    if system_ids is not None:
        # A queryset stays a subquery; anything else is a list of ids.
        edges = edges.filter(consumer_system_id__in=system_ids if hasattr(system_ids, "query") else list(system_ids))
    edges = edges.filter(
        Q(**{f"{theirs}status__isnull": True}) | ~Q(**{f"{theirs}status__in": Transformation.DONE_STATUSES}),
        Q(**{f"{theirs}wave__isnull": True}) | Q(**{f"{theirs}wave__starts_on__gt": F(f"{mine}wave__starts_on")}),
    )
    return edges


def plan_wave(transformation: Transformation, wave: MigrationWave | None, user) -> list[DependencyConflict]:
    """Put the system in ``wave`` (status "planned") and return the dependency conflicts this creates.

    The conflicts are flags, not refusals: the programme may plan knowingly and resolve them later
    (move the provider, or mark the integration tolerant). Both sides' conflicts are returned.
    """
    if not access.can(user, "change", transformation):
        raise PermissionDenied
    if transformation.done:
        raise GovernanceError(_("The system has already left the old platform."))
    with transaction.atomic(), set_actor(user):
        transformation.wave = wave
        if wave is not None and transformation.status == Transformation.Status.ASSESSED:
            transformation.status = Transformation.Status.PLANNED
        if wave is None and transformation.status == Transformation.Status.PLANNED:
            transformation.status = Transformation.Status.ASSESSED
        transformation.full_clean()
        transformation.save()
    system_id = transformation.system_id
    dependants = Integration.objects.filter(provider_system_id=system_id).values_list("consumer_system_id", flat=True)
    return dependency_conflicts(system_ids={system_id, *[d for d in dependants if d]})


@dataclass(frozen=True)
class BurnDownPoint:
    """How much is left on the old platform on ``day``: planned (by wave end) and actual (by completion)."""

    day: dt.date
    systems_planned: int
    systems_actual: int | None  # None for days in the future
    items_planned: int
    items_actual: int | None


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start.replace(day=1)
    while day <= end:
        days.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return days


def burn_down(systems, *, start: dt.date, end: dt.date, today: dt.date | None = None) -> list[BurnDownPoint]:
    """The burn-down of ``systems`` (a restricted System queryset), one point on the first of each month.

    A system counts as *planned* to be left until its wave ends (without a wave it stays, unless it has
    already left), *actually* left until its transformation's ``completed_on``. A legacy infrastructure
    item counts the same way, with its own ``decommissioned_on`` as the actual date.
    Five small queries: the database counts per date (a few dozen rows), Python only adds them up per month.
    """
    today = today or timezone.localdate()
    total_systems = systems.order_by().count()
    plans, items = Transformation.objects.all(), InfrastructureItem.objects.filter(legacy_platform=True)
    if systems.query.has_filters():  # else the user sees every system: no subquery
        ids = systems.values("pk")
        plans, items = plans.filter(system__in=ids), items.filter(system__in=ids)
    # Planned to leave when its wave ends; a system that left without a wave (already SaaS) planned so too.
    systems_planned = _Remaining.counted(_per_date(plans, Coalesce("wave__ends_on", "completed_on")), total_systems)
    systems_actual = _Remaining.counted(_per_date(plans, F("completed_on")), total_systems)
    planned_item = Coalesce("system__transformation__wave__ends_on", "system__transformation__completed_on")
    item_count = items.order_by().count()
    items_planned = _Remaining.counted(_per_date(items, planned_item), item_count)
    items_actual = _Remaining.counted(_per_date(items, F("decommissioned_on")), item_count)
    points = []
    for day in _months(start, end):
        future = day > today
        points.append(
            BurnDownPoint(
                day=day,
                systems_planned=systems_planned.on(day),
                systems_actual=None if future else systems_actual.on(day),
                items_planned=items_planned.on(day),
                items_actual=None if future else items_actual.on(day),
            )
        )
    return points


def _per_date(queryset, expression) -> dict[dt.date, int]:
    """``{date: rows}`` of ``queryset`` grouped by the date ``expression`` (rows without a date left out)."""
    rows = (
        queryset.order_by()
        .annotate(leaves=expression)
        .filter(leaves__isnull=False)
        .values("leaves")
        .annotate(n=Count("pk"))
        .values_list("leaves", "n")
    )
    return dict(rows)


class _Remaining:
    """Counts of things still on the old platform on a day, from the dates they leave (``None``: not planned)."""

    def __init__(self, dates):
        dates = list(dates)
        self.undated = sum(1 for d in dates if d is None)
        self.dated = sorted(d for d in dates if d is not None)
        self.weights = None

    @classmethod
    def counted(cls, per_date: dict[dt.date, int], total: int) -> _Remaining:
        """From ``{date: count}`` and the total (everything without a date stays)."""
        remaining = cls(())
        remaining.dated = sorted(per_date)
        remaining.undated = total - sum(per_date.values())
        # leaving[i]: how many leave on dated[i] or later.
        remaining.weights = list(itertools.accumulate(per_date[d] for d in reversed(remaining.dated)))[::-1]
        return remaining

    def on(self, day: dt.date) -> int:
        index = bisect.bisect_left(self.dated, day)
        if self.weights is None:
            return self.undated + len(self.dated) - index
        return self.undated + (self.weights[index] if index < len(self.weights) else 0)


def progress_by_agency(systems) -> list[dict]:
    """Per agency: systems in each transformation status (a system without a row counts as unassessed).

    One grouped query (agencies × statuses rows, not one row per system).
    """
    counts: dict[tuple[int, str], dict[str, int]] = {}
    rows = (
        systems.order_by()
        .values("agency_id", "agency__name", "transformation__status")
        .annotate(n=Count("pk"))
        .values_list("agency_id", "agency__name", "transformation__status", "n")
    )
    for agency_id, agency_name, status, n in rows:
        statuses = counts.setdefault((agency_id, agency_name), {})
        key = status or "unassessed"
        statuses[key] = statuses.get(key, 0) + n
    result = []
    for (agency_id, agency_name), statuses in sorted(counts.items(), key=lambda kv: kv[0][1]):
        total = sum(statuses.values())
        moved = sum(statuses.get(s, 0) for s in Transformation.DONE_STATUSES)
        result.append(
            {
                "agency_id": agency_id,
                "agency": agency_name,
                "total": total,
                "moved": moved,
                "percent": round(100 * moved / total) if total else 0,
                "statuses": statuses,
            }
        )
    return result
