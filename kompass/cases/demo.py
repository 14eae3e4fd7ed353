"""Demo data of the cases app: a year of case history for every demo agency, by bulk inserts.

Deterministic (a seeded generator over a fixed year, 1 Dec 2025 – 30 Nov 2026 in Oslo) and idempotent: each
demo case carries a natural key in ``source_message_id`` (``<demo-N@kompass.demo>``) and only the missing ones are
created, numbered after whatever the year's counter holds. The SLA fields are computed by the same clocks as
real cases (breaches included); a few cases are reopened and a few major incidents have children.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.dispatch import receiver

from kompass.cases import clocks, search
from kompass.cases.models import Case, CaseChange, CaseCounter, Reply
from kompass.cases.sla import ClockKind
from kompass.core.signals import demo_data_loaded

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2025, 12, 1, tzinfo=OSLO)
DAYS = 365
PER_AGENCY = 80
#: Relative volume per month (1 = January): busy after the holidays and in the autumn, quiet in July.
SEASON = {1: 1.4, 2: 1.2, 3: 1.1, 4: 1.0, 5: 0.9, 6: 0.8, 7: 0.45, 8: 1.2, 9: 1.3, 10: 1.2, 11: 1.1, 12: 0.8}
TITLES = [
    ("incident", "Får ikke logget inn i {s}"),
    ("incident", "{s} er tregt i dag"),
    ("incident", "Feilmelding ved lagring i {s}"),
    ("incident", "Utskrift fra {s} virker ikke"),
    ("request", "Tilgang til {s} for ny medarbeider"),
    ("request", "Ny lisens til {s}"),
    ("request", "Endre rettigheter i {s}"),
    ("question", "Hvordan eksporterer jeg fra {s}?"),
    ("question", "Hvem kan hjelpe med {s}?"),
]
REPLIES = ["Vi ser på saken.", "Kan du sende et skjermbilde?", "Takk, det hjalp.", "Leverandøren er varslet."]
MAJOR = "Driftsavbrudd: {s} er nede for flere virksomheter"


def _key(n: int) -> str:
    return f"<demo-{n}@kompass.demo>"


def _when(rng: random.Random) -> datetime:
    while True:
        day = rng.randrange(DAYS)
        moment = START + timedelta(days=day)
        if rng.random() * 1.4 < SEASON[moment.month] and moment.weekday() < 5 or rng.random() < 0.03:
            return (moment + timedelta(hours=rng.randint(7, 16), minutes=rng.randrange(60))).astimezone(OSLO)


@receiver(demo_data_loaded)
def add_demo_cases(sender, **kwargs):
    from auditlog.context import disable_auditlog

    from kompass.core.models import Agency, RoleAssignment, Service, System, User
    from kompass.core.roles import Role

    started = time.perf_counter()
    agencies = list(Agency.objects.order_by("short_code").prefetch_related("services"))
    people: dict[int, list[int]] = {}
    for pk, agency_id in User.objects.filter(home_agency__isnull=False, is_active=True).values_list(
        "pk", "home_agency_id"
    ):
        people.setdefault(agency_id, []).append(pk)
    for user_id, agency_id in RoleAssignment.objects.filter(agency__isnull=False).values_list("user_id", "agency_id"):
        people.setdefault(agency_id, []).append(user_id)
    systems: dict[int, list[int]] = {}
    for pk, agency_id in System.objects.values_list("pk", "agency_id"):
        systems.setdefault(agency_id, []).append(pk)
    agents = list(
        User.objects.filter(role_assignments__role=Role.SERVICE_DESK_AGENT).values_list("pk", flat=True).distinct()
    )
    have = set(Case.objects.filter(source_message_id__startswith="<demo-").values_list("source_message_id", flat=True))

    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    planned = []
    n = 0
    for agency in agencies:
        services = [s.pk for s in agency.services.all()]
        requesters = sorted(set(people.get(agency.pk, [])))
        if not services or not requesters:
            continue
        for _ in range(PER_AGENCY):
            n += 1
            planned.append((n, agency, services, requesters))
    missing = [p for p in planned if _key(p[0]) not in have]
    if not missing:
        return f"Cases: {len(have)} demo cases already there"

    end = START + timedelta(days=DAYS)
    cases, plans = [], []
    service_names = dict(Service.objects.values_list("pk", "name"))
    for number, agency, services, requesters in planned:
        # Draw for every planned case, also existing ones, so the stream (and the data) never shifts.
        created = _when(rng)
        kind, title = rng.choice(TITLES)
        service = rng.choice(services)
        impact, urgency = rng.choices([1, 2, 3], [1, 3, 6])[0], rng.choices([1, 2, 3], [1, 3, 6])[0]
        system = rng.choice(systems[agency.pk]) if systems.get(agency.pk) and rng.random() < 0.5 else None
        fate = rng.random()
        response_after = timedelta(minutes=rng.choice([5, 20, 45, 90, 240, 600]))
        resolve_after = timedelta(hours=rng.choice([1, 3, 6, 20, 30, 50, 80, 200]))
        waits = rng.random() < 0.2
        reopened = rng.random() < 0.04
        rating = rng.choices([None, 5, 4, 3, 2, 1], [5, 4, 3, 1, 0.5, 0.3])[0]
        requester = rng.choice(requesters)
        assignee = rng.choice(agents) if agents else None
        replies = rng.randint(0, 3)
        if _key(number) in have:
            continue
        case = Case(
            number="",
            type=kind,
            agency=agency,
            requester_id=requester,
            service_id=service,
            system_id=system,
            title=title.format(s=service_names[service])[:200],
            description="Demodata.",
            impact=impact,
            urgency=urgency,
            priority=clocks.compute_priority(impact, urgency),
            source=rng.choice([Case.Source.PORTAL, Case.Source.PORTAL, Case.Source.EMAIL, Case.Source.AGENT]),
            assignee_id=assignee,
            team="Servicedesk" if assignee else "",
            created=created,
            source_message_id=_key(number),
        )
        clocks.start_clocks(case, created)
        now = min(end, datetime.now(OSLO))
        responded = created + response_after
        if fate < 0.03 or responded > now:  # brand new
            clocks.refresh(case, now)
        else:
            case.state = Case.State.IN_PROGRESS
            case.responded_at = responded
            clocks.update_clock(case, ClockKind.RESPONSE, "stop", responded)
            resolved = responded + resolve_after
            if waits:
                clocks.update_clock(case, ClockKind.RESOLUTION, "pause", responded + timedelta(minutes=30))
                clocks.update_clock(case, ClockKind.RESOLUTION, "resume", responded + timedelta(hours=20))
                resolved += timedelta(hours=20)
            if resolved < now and fate > 0.08:
                clocks.update_clock(case, ClockKind.RESOLUTION, "stop", resolved)
                case.state, case.resolved_at, case.resolution = Case.State.RESOLVED, resolved, "Løst (demo)."
                if reopened and resolved + timedelta(days=1) < now:
                    clocks.restart_resolution(case, resolved + timedelta(days=1))
                    case.state, case.resolved_at = Case.State.IN_PROGRESS, None
                elif resolved + timedelta(days=7) < now:
                    case.state, case.closed_at = Case.State.CLOSED, resolved + timedelta(days=7)
                    if rating:
                        case.rating, case.rated_at = rating, case.closed_at
            clocks.refresh(case, now)
        cases.append(case)
        plans.append((case, replies, reopened))

    with transaction.atomic(), disable_auditlog():
        by_year: dict[int, list[Case]] = {}
        for case in sorted(cases, key=lambda c: c.created):
            by_year.setdefault(case.created.astimezone(OSLO).year, []).append(case)
        for year, batch in by_year.items():
            CaseCounter.objects.get_or_create(year=year)
            CaseCounter.objects.filter(year=year).update(last=F("last") + len(batch))
            last = CaseCounter.objects.get(year=year).last
            for offset, case in enumerate(batch):
                case.number = f"KOM-{year}-{last - len(batch) + offset + 1:06d}"
        Case.objects.bulk_create(cases, batch_size=500)
        saved = {
            c.source_message_id: c.pk
            for c in Case.objects.filter(source_message_id__in=[c.source_message_id for c in cases])
        }
        replies, changes = [], []
        for case, count, reopened in plans:
            case.pk = saved[case.source_message_id]
            changes.append(CaseChange(case_id=case.pk, kind="created", origin="system", detail={"demo": True}))
            for i in range(count):
                replies.append(
                    Reply(
                        case_id=case.pk,
                        author_id=case.assignee_id if i % 2 == 0 else case.requester_id,
                        text=REPLIES[i % len(REPLIES)],
                        origin="user",
                    )
                )
            if case.state != Case.State.NEW:
                changes.append(
                    CaseChange(case_id=case.pk, kind="state", origin="system", detail={"from": "new", "to": case.state})
                )
            if reopened:
                changes.append(CaseChange(case_id=case.pk, kind="reopened", origin="system", detail={}))
        Reply.objects.bulk_create(replies, batch_size=1000)
        CaseChange.objects.bulk_create(changes, batch_size=1000)
        # A few major incidents: the first open incident of some agencies gathers three others of its service.
        majors = list(Case.objects.filter(pk__in=saved.values(), type="incident").order_by("created")[::400])
        for major in majors:
            major.title = MAJOR.format(s=service_names[major.service_id])[:200]
            major.save(update_fields=["title"])
            children = Case.objects.filter(
                service_id=major.service_id, pk__in=saved.values(), parent__isnull=True, created__gt=major.created
            ).exclude(pk=major.pk)[:3]
            Case.objects.filter(pk__in=[c.pk for c in children]).update(parent=major)
        search.index_cases(saved.values())  # bulk inserts pass the services: index the new cases here
    seconds = time.perf_counter() - started
    return f"Cases: {len(cases)} demo cases, {len(replies)} replies ({seconds:.1f} s)"
