"""Demo data of vendor performance: bilag 5's service levels for the demo operations contract, a few outages and
an agreed maintenance window, and the last two months' statements and service reports, so the scorecard lives.

Runs after the cases and contract demo loads (``demo_data_loaded``; this app comes after them in
``INSTALLED_APPS``). Idempotent: the version, outages and exclusions are keyed by their names and times, and a
month with a stored report is skipped.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from django.dispatch import receiver

from kompass.contract import services as contracts
from kompass.core.demo import DEMO_DOMAIN
from kompass.core.models import Service, User
from kompass.core.signals import demo_data_loaded

VERSION_NAME = "Bilag 5: tjenestenivåer 2026"
TIERS = [{"below": "99.5", "credit": "5"}, {"below": "99", "credit": "10"}, {"below": "98", "credit": "20"}]
#: priority -> (response h, resolution h, service hours, required %, credit % of the fee)
LEVELS = {
    1: ("0.5", "4", "24x7", "95", "2"),
    2: ("1", "8", "24x7", "90", "1"),
    3: ("4", "16", "office", "90", "0.5"),
    4: ("8", "80", "office", "85", "0.5"),
}
DEMO_MONTHS = [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
OSLO = ZoneInfo("Europe/Oslo")


def _at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OSLO)


@receiver(demo_data_loaded, dispatch_uid="reports_demo")
def add_reports_demo(sender, **kwargs) -> str:
    from auditlog.context import disable_auditlog

    with transaction.atomic(), disable_auditlog():
        made = load()
    return "Reports: " + ", ".join(f"{n} {label}" for label, n in made.items())


def load() -> dict:
    from kompass.reports import report, services
    from kompass.reports.models import (
        AvailabilityLevel,
        CaseLevel,
        Exclusion,
        LevelVersion,
        MonthlyReport,
        Outage,
        Statement,
    )

    contract = contracts.contracts().filter(name__startswith="Driftsavtale").first()
    agreement = User.objects.filter(email=f"avtale@{DEMO_DOMAIN}").first()
    made = {"versions": 0, "outages": 0, "reports": 0}
    if contract is None or agreement is None:
        return made
    if not contract.monthly_fee:
        contract.monthly_fee = Decimal("1250000.00")
        contract.save(update_fields=["monthly_fee"])
    # The three services with the most cases carry the levels.
    chosen = list(Service.objects.annotate(n=Count("cases")).filter(n__gt=0).order_by("-n", "pk")[:3])
    version, created = LevelVersion.objects.get_or_create(
        contract=contract,
        name=VERSION_NAME,
        defaults={"valid_from": dt.date(2026, 1, 1), "monthly_cap_pct": Decimal(15), "yearly_cap_pct": Decimal(10)},
    )
    made["versions"] += created
    for service in chosen:
        AvailabilityLevel.objects.get_or_create(
            version=version, service=service, defaults={"target_pct": Decimal("99.5"), "tiers": TIERS}
        )
        for priority, (response, resolution, hours, required, credit) in LEVELS.items():
            CaseLevel.objects.get_or_create(
                version=version,
                service=service,
                priority=priority,
                defaults={
                    "response_hours": Decimal(response),
                    "resolution_hours": Decimal(resolution),
                    "service_hours": hours,
                    "required_pct": Decimal(required),
                    "credit_pct": Decimal(credit),
                },
            )
    if chosen:
        first = chosen[0]
        for starts, ends, cause in [
            (_at(2026, 10, 14, 7, 40), _at(2026, 10, 14, 13, 10), "Lagringssystemet falt ut"),
            (_at(2026, 11, 3, 22, 0), _at(2026, 11, 4, 1, 30), "Feil i brannmuroppdatering"),
        ]:
            _outage, new = Outage.objects.get_or_create(
                contract=contract,
                service=first,
                starts=starts,
                defaults={"ends": ends, "cause": cause, "recorded_by": agreement},
            )
            made["outages"] += new
        Exclusion.objects.get_or_create(
            contract=contract,
            service=first,
            kind=Exclusion.Kind.MAINTENANCE,
            starts=_at(2026, 11, 3, 22, 0),
            defaults={"ends": _at(2026, 11, 4, 0, 0), "reason": "Avtalt vedlikeholdsvindu", "decided_by": agreement},
        )
    for month in DEMO_MONTHS:
        if not Statement.objects.filter(contract=contract, month=month).exists():
            services.build_statement(contract, month)
        if not MonthlyReport.objects.filter(contract=contract, month=month).exists():
            report.generate(contract, month, user=agreement, trigger="demo")
            made["reports"] += 1
    return made
