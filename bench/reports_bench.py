"""Benchmark vendor performance: the monthly report over many cases and 50 agencies, and the scorecard's p95.

    .venv/bin/python bench/reports_bench.py                       # 1,000,000 cases, temporary SQLite database
    .venv/bin/python bench/reports_bench.py --cases 100000        # smaller, when filling 1M rows is too slow
    DATABASE_URL=postgres://... .venv/bin/python bench/reports_bench.py --cases 200000

1. Builds ``--cases`` P1–P4 incidents over 12 months (2026), 50 agencies, three services, in bulk
   (``bulk_create``, no signals, auditlog off), a contract with bilag 5's levels for those services, and an
   outage a month.
2. **Monthly report**: statement + report (PDF and Excel, stored, sent through the ledger) for the last month,
   timed end to end, and the month's computation alone (``services.month_figures``).
3. **Scorecard**: ``/reports/?contract=…&month=2026-12`` as the agreement manager, in process with Django's test
   client; p50/p95/max ms. The eleven earlier months have statements (the trend reads them). Measured: the first
   look (nothing stored: computed in the request), ``--repeat`` looks at up-to-date stored figures, ``--repeat``
   first looks after an audited change (a case edited: the stored figures are shown and the worker is asked),
   and the worker's recomputation itself.
"""

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
    os.environ.setdefault("KOMPASS_ENV", "test")
    os.environ["KOMPASS_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    settings.MEDIA_ROOT = str(Path(var_dir) / "media")
    call_command("migrate", verbosity=0)


def build(n_cases: int, n_agencies: int, seed: int):
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from auditlog.context import disable_auditlog
    from django.apps import apps
    from django.db import transaction

    from kompass.core.models import Agency, RoleAssignment, Service, User
    from kompass.core.roles import Role
    from kompass.reports.models import AvailabilityLevel, CaseLevel, LevelVersion, Outage

    Case = apps.get_model("cases", "Case")
    Contract = apps.get_model("contract", "Contract")
    rng = random.Random(seed)
    zone = ZoneInfo("Europe/Oslo")
    with transaction.atomic(), disable_auditlog():
        Agency.objects.bulk_create(
            [Agency(name=f"Virksomhet {i:02d}", short_code=f"V{i:02d}", kind="department") for i in range(n_agencies)]
        )
        agencies = list(Agency.objects.values_list("pk", flat=True))
        services = [Service.objects.create(name=f"Tjeneste {i}", delivery="vendor", vendor_name="L") for i in range(3)]
        manager = User.objects.create_user("avtale@bench.example", "x", full_name="Avtaleforvalter")
        RoleAssignment.objects.create(user=manager, role=Role.AGREEMENT_MANAGER)
        requester = User.objects.create_user("ansatt@bench.example", "x", full_name="Ansatt")
        contract = Contract.objects.create(
            name="Driftsavtale", vendor_name="L", monthly_fee=Decimal(400000), customer_representative=manager
        )
        version = LevelVersion.objects.create(
            contract=contract, name="Bilag 5", valid_from=dt.date(2026, 1, 1), monthly_cap_pct=15, yearly_cap_pct=10
        )
        tiers = [{"below": "99.5", "credit": "5"}, {"below": "99", "credit": "10"}, {"below": "98", "credit": "20"}]
        for service in services:
            AvailabilityLevel.objects.create(version=version, service=service, target_pct=Decimal("99.5"), tiers=tiers)
            for priority, (hours, resolution) in {
                1: ("24x7", 4),
                2: ("24x7", 8),
                3: ("office", 16),
                4: ("office", 80),
            }.items():
                CaseLevel.objects.create(
                    version=version,
                    service=service,
                    priority=priority,
                    response_hours=1,
                    resolution_hours=resolution,
                    service_hours=hours,
                    required_pct=90,
                    credit_pct=1,
                )
            for month in range(1, 13):
                starts = dt.datetime(2026, month, 10, 8, tzinfo=zone)
                Outage.objects.create(
                    contract=contract,
                    service=service,
                    starts=starts,
                    ends=starts + dt.timedelta(hours=rng.choice([1, 2, 4])),
                    cause="Bench",
                )
        year_start = dt.datetime(2026, 1, 1, tzinfo=zone).timestamp()
        span = dt.datetime(2027, 1, 1, tzinfo=zone).timestamp() - year_start
        batch = []
        for i in range(n_cases):
            created = dt.datetime.fromtimestamp(year_start + rng.random() * span, tz=dt.UTC)
            priority = rng.choice([1, 2, 2, 3, 3, 3, 4, 4])
            hours = rng.expovariate(1 / (4 * priority))
            resolved = created + dt.timedelta(hours=hours) if rng.random() < 0.97 else None
            batch.append(
                Case(
                    number=f"B-{i:08d}",
                    requester=requester,
                    service=rng.choice(services),
                    agency_id=rng.choice(agencies),
                    title="Bench",
                    priority=priority,
                    impact=priority,
                    urgency=priority,
                    created=created,
                    responded_at=created + dt.timedelta(minutes=rng.randint(1, 120)),
                    resolved_at=resolved,
                    state="resolved" if resolved else "in_progress",
                )
            )
            if len(batch) == 10000:
                Case.objects.bulk_create(batch)
                batch = []
        Case.objects.bulk_create(batch)
    return contract, manager


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: measure again over the cases a previous run left in DATABASE_URL (no build)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from django.apps import apps
        from django.conf import settings
        from django.core.cache import cache
        from django.db import connection, reset_queries
        from django.test import Client

        from kompass.core import durable
        from kompass.core.models import Organisation, User
        from kompass.reports import report, services
        from kompass.reports.models import ScorecardFigures

        Contract = apps.get_model("contract", "Contract")
        Organisation.current()
        started = time.perf_counter()
        existing = Contract.objects.filter(name="Driftsavtale").first() if args.reuse else None
        if existing is not None:
            contract, manager = existing, User.objects.get(email="avtale@bench.example")
            print(f"reusing {apps.get_model('cases', 'Case').objects.count()} cases ({connection.vendor})")
        else:
            contract, manager = build(args.cases, args.agencies, args.seed)
            print(
                f"built {args.cases} cases, {args.agencies} agencies in {time.perf_counter() - started:.1f} s "
                f"({connection.vendor}, Python {platform.python_version()}, load {os.getloadavg()[0]:.2f})"
            )
        month = dt.date(2026, 12, 1)
        started = time.perf_counter()
        for m in range(1, 12):  # the earlier months' statements (the scorecard's trend reads them)
            services.build_statement(contract, dt.date(2026, m, 1))
        print(f"eleven earlier statements: {time.perf_counter() - started:.1f} s")

        def timed(function):
            settings.DEBUG = True  # count the queries
            reset_queries()
            wall, cpu = time.perf_counter(), time.process_time()
            value = function()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            queries = len(connection.queries)
            settings.DEBUG = False
            return value, wall, cpu, queries

        figures, computed, cpu, queries = timed(lambda: services.month_figures(contract, month))
        resolved = sum(r.resolved for r in figures.attainment.values())
        print(
            f"month computation: {computed:.2f} s, CPU {cpu:.2f} s, {queries} queries "
            f"({resolved} cases resolved in the month); load {os.getloadavg()[0]:.2f}"
        )
        stored, whole, cpu, queries = timed(lambda: report.generate(contract, month, user=manager))
        print(
            f"monthly report (statement + PDF + Excel + store + send), v{stored.version}: {whole:.2f} s, "
            f"CPU {cpu:.2f} s, {queries} queries; load {os.getloadavg()[0]:.2f}"
        )
        client = Client()
        client.force_login(manager)
        url = f"/reports/?contract={contract.pk}&month=2026-12"
        cache.clear()
        ScorecardFigures.objects.filter(contract=contract).delete()
        response, first, cpu, queries = timed(lambda: client.get(url))
        assert response.status_code == 200
        print(
            f"scorecard, first look (nothing stored: computed in the request): {first * 1000:.0f} ms, "
            f"CPU {cpu * 1000:.0f} ms, {queries} queries; load {os.getloadavg()[0]:.2f}"
        )

        def p95_of(timings):
            timings = sorted(timings)
            return timings[max(0, int(round(0.95 * len(timings))) - 1)], statistics.median(timings), timings[-1]

        timings = []
        for _i in range(args.repeat):
            t = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        p95, p50, worst = p95_of(timings)
        print(
            f"scorecard, stored figures up to date: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms "
            f"({args.repeat} requests); load {os.getloadavg()[0]:.2f}"
        )

        # After an audited change elsewhere (a case edited): the stored figures are shown and the worker is asked.
        Case = apps.get_model("cases", "Case")
        case = Case.objects.filter(created__gte=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)).order_by("pk").first()
        row = ScorecardFigures.objects.get(contract=contract, month=month)
        timings, queries_seen = [], []
        for i in range(args.repeat):
            case.title = f"Bench change {i}"
            case.save()  # audited: the stored figures are now older than the newest audit entry
            ScorecardFigures.objects.filter(pk=row.pk).update(state=ScorecardFigures.State.DONE)
            response, wall, cpu, queries = timed(lambda: client.get(url))
            assert response.status_code == 200 and "beregnes på nytt" in response.content.decode()
            timings.append(wall * 1000)
            queries_seen.append(queries)
        p95, p50, worst = p95_of(timings)
        print(
            f"scorecard, first request after an audited change (stored figures shown, worker asked): p50 {p50:.0f} ms, "
            f"p95 {p95:.0f} ms, max {worst:.0f} ms, {max(queries_seen)} queries ({args.repeat} requests); "
            f"load {os.getloadavg()[0]:.2f}"
        )
        ScorecardFigures.objects.filter(pk=row.pk).update(state=ScorecardFigures.State.PENDING)
        durable.autodiscover()
        _done, wall, cpu, queries = timed(lambda: durable.PROCESSORS["reports.scorecardfigures"].run("bench"))
        assert _done.done == 1
        print(
            f"the worker's recomputation of the scorecard's figures (month + 12-month trend): {wall:.2f} s, "
            f"CPU {cpu:.2f} s, {queries} queries; load {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
