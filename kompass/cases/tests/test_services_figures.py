"""``services.monthly_agency_figures`` (read by the surveys' side-by-side view) on hand-made cases."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kompass.cases import services
from kompass.cases.models import Case, Reply
from kompass.core.models import Service

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


def _at(day, hour=9):
    return dt.datetime(2026, day[0], day[1], hour, tzinfo=OSLO)


def _case(n, agency, requester, *, created, resolved=None, breached=False, due=True, kind=Case.Type.INCIDENT):
    return Case.objects.create(
        number=f"KOM-2026-{n}",
        requester=requester,
        service=Service.objects.first(),
        agency=agency,
        title=f"Feil {n}",
        type=kind,
        created=created,
        resolved_at=resolved,
        state=Case.State.RESOLVED if resolved else Case.State.NEW,
        resolution_due=created + dt.timedelta(days=1) if due else None,
        resolution_breached=breached,
    )


def test_monthly_figures_per_agency(agencies, cast):
    alfa, beta = agencies["alfa"], agencies["beta"]
    who = cast["requester"]
    # March, alfa: three incidents reported; two resolved in March (10 h and 30 h; one breached), one in April.
    a = _case(1, alfa, who, created=_at((3, 2)), resolved=_at((3, 2), 19))
    _case(2, alfa, who, created=_at((3, 3)), resolved=_at((3, 4), 15), breached=True)
    _case(3, alfa, who, created=_at((3, 31), 20), resolved=_at((4, 1), 10))
    _case(4, alfa, who, created=_at((3, 5)), kind=Case.Type.REQUEST)  # not an incident
    _case(5, beta, who, created=_at((3, 6)), resolved=_at((3, 6), 12), due=False)  # no SLA: not in attainment
    reply = Reply.objects.create(case=a, text="Vi ser på det.")
    Reply.objects.filter(pk=reply.pk).update(created=_at((3, 2), 12))  # before the resolution: informed

    figures = services.monthly_agency_figures([alfa.pk, beta.pk], dt.date(2026, 3, 1), dt.date(2026, 4, 1))

    march, april = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
    assert figures[alfa.pk, march] == {
        "incidents": 3,
        "sla_attainment": 0.5,
        "median_resolution_hours": 20.0,
        "requester_informed_rate": 0.5,
    }
    assert figures[alfa.pk, april] == {
        "incidents": 0,
        "sla_attainment": 1.0,
        "median_resolution_hours": 14.0,  # 20:00 on 31 March (Oslo) to 10:00 on 1 April
        "requester_informed_rate": 0.0,
    }
    assert figures[beta.pk, march]["sla_attainment"] is None and figures[beta.pk, march]["incidents"] == 1
    assert services.monthly_agency_figures([beta.pk], dt.date(2026, 5, 1), dt.date(2026, 5, 1)) == {}
