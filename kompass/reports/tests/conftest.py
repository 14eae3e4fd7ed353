"""Fixtures: the worked example of domain.md §3 as data (one service, NOK 400 000 a month, June 2026)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from kompass.core.models import RoleAssignment, Service, User
from kompass.core.roles import Role
from kompass.reports.models import AvailabilityLevel, CaseLevel, LevelVersion, Outage
from kompass.testing.cast import PASSWORD

# Sibling models only to set up data (the app itself reads them through their services).
Case = apps.get_model("cases", "Case")
Contract = apps.get_model("contract", "Contract")

OSLO = ZoneInfo("Europe/Oslo")
JUNE = dt.date(2026, 6, 1)
TIERS = [{"below": "99.5", "credit": "5"}, {"below": "99", "credit": "10"}, {"below": "98", "credit": "20"}]


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OSLO)


@pytest.fixture
def service(agencies):
    return Service.objects.get(name="Brukerstøtte")


@pytest.fixture
def contract(cast):
    return Contract.objects.create(
        name="Driftsavtale",
        vendor_name="Leverandør AS",
        customer_representative=cast["agreement"],
        monthly_fee=Decimal("400000.00"),
    )


@pytest.fixture
def rep(contract):
    user = User.objects.create_user("rep@vendor.example", PASSWORD, full_name="Rep Resentant")
    RoleAssignment.objects.create(user=user, role=Role.VENDOR_REPRESENTATIVE)
    contract.vendor_representatives.add(user)
    return user


@pytest.fixture
def other_rep(db):
    user = User.objects.create_user("other@vendor.example", PASSWORD, full_name="Other Rep")
    RoleAssignment.objects.create(user=user, role=Role.VENDOR_REPRESENTATIVE)
    return user


@pytest.fixture
def version(contract, service):
    version = LevelVersion.objects.create(
        contract=contract,
        name="Bilag 5",
        valid_from=dt.date(2026, 1, 1),
        monthly_cap_pct=Decimal(15),
        yearly_cap_pct=Decimal(10),
    )
    AvailabilityLevel.objects.create(version=version, service=service, target_pct=Decimal("99.5"), tiers=TIERS)
    CaseLevel.objects.create(
        version=version,
        service=service,
        priority=1,
        response_hours=Decimal("0.5"),
        resolution_hours=Decimal(4),
        required_pct=Decimal(95),
        credit_pct=Decimal(2),
    )
    return version


def make_cases(agency, service, requester, spec, *, start=None):
    """``spec``: a list of resolution hours (``None``: still open), one P1 incident each, 2 hours apart."""
    start = start or at(2026, 6, 2, 0)
    rows = []
    for index, hours in enumerate(spec):
        created = start + dt.timedelta(hours=2 * index)
        rows.append(
            Case(
                number=f"KOM-2026-{900000 + index + hash(start) % 1000 * 100:06d}",
                requester=requester,
                service=service,
                agency=agency,
                title=f"Sak {index}",
                impact=1,
                urgency=1,
                priority=1,
                created=created,
                responded_at=created + dt.timedelta(minutes=10),
                resolved_at=created + dt.timedelta(hours=hours) if hours is not None else None,
                state="resolved" if hours is not None else "in_progress",
            )
        )
    return Case.objects.bulk_create(rows)


@pytest.fixture
def worked_example(agencies, cast, service, version, contract):
    """June 2026: 20 P1 incidents, 18 resolved within 4 h; a 6-hour outage."""
    cases = make_cases(agencies["alfa"], service, cast["requester"], [1] * 9 + [6] + [2] * 9 + [5])
    Outage.objects.create(
        contract=contract, service=service, starts=at(2026, 6, 10, 8), ends=at(2026, 6, 10, 14), cause="Lagring nede"
    )
    return cases
