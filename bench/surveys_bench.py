"""Benchmark the surveys' result views over 5 years × 50 agencies × 40 respondents a month.

    .venv/bin/python bench/surveys_bench.py                      # temporary SQLite database
    DATABASE_URL=postgres://... .venv/bin/python bench/surveys_bench.py

1. Builds the data in bulk with the demo's own loader (``kompass.surveys.demo.load``): 50 agencies, 40 people
   asked in each (IT main contacts and system owners), 60 monthly campaigns; ~78 % answer each month, so
   ~94,000 responses with three ratings each (~280,000 answers) and the result cells they add up to.
2. **Server time**: each page and endpoint is requested ``--repeat`` times in process with Django's test
   client (the full middleware stack, session auth, the access matrix, rendering; no network), as an
   agreement manager (all 50 agencies) and as a key account manager (five agencies); prints p50/p95/max ms.
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
    call_command("migrate", verbosity=0)


def build(agencies: int, people: int, months: int, seed: int) -> dict:
    from auditlog.context import disable_auditlog
    from django.db import transaction

    from kompass.core.models import Agency, RoleAssignment, User
    from kompass.core.roles import Role
    from kompass.surveys import demo

    rng = random.Random(seed)
    Agency.objects.bulk_create(
        [
            Agency(name=f"Virksomhet {i:02d}", short_code=f"V{i:02d}", kind=Agency.Kind.DEPARTMENT)
            for i in range(agencies)
        ]
    )
    ids = list(Agency.objects.order_by("pk").values_list("pk", flat=True))
    manager = User.objects.create_user("avtale@bench.example", "x", full_name="Avtaleforvalter")
    RoleAssignment.objects.create(user=manager, role=Role.AGREEMENT_MANAGER)
    kam = User.objects.create_user("kam@bench.example", "x", full_name="Kundeansvarlig")
    for agency_id in ids[:5]:
        RoleAssignment.objects.create(user=kam, role=Role.KEY_ACCOUNT_MANAGER, agency_id=agency_id)
    respondents = {
        agency_id: [
            (Role.AGENCY_IT_CONTACT.value if n % 4 == 0 else Role.SYSTEM_OWNER.value, -(agency_id * 1000 + n))
            for n in range(people)
        ]
        for agency_id in ids
    }
    last = dt.date(2026, 11, 1)
    month_list, month = [], last
    for _i in range(months):
        month_list.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    started = time.perf_counter()
    with transaction.atomic(), disable_auditlog():
        counts = demo.load(rng, month_list=sorted(month_list), respondents=respondents)
    counts["build_seconds"] = round(time.perf_counter() - started, 1)
    return {"manager": manager, "kam": kam, "agency": ids[0], "counts": counts}


def time_requests(client, url: str, repeat: int) -> dict:
    client.get(url)  # warm: templates, query plans
    timings = []
    size = 0
    for _i in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    timings.sort()
    p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
    return {"p50": statistics.median(timings), "p95": p95, "max": timings[-1], "size": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", help="a directory to keep the SQLite data in (built once, reused after)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        var_dir = args.data or scratch
        setup_django(var_dir)
        from django.db import connection
        from django.test import Client

        from kompass.core.models import User

        if User.objects.filter(email="kam@bench.example").exists():
            world = {
                "manager": User.objects.get(email="avtale@bench.example"),
                "kam": User.objects.get(email="kam@bench.example"),
                "agency": User.objects.get(email="kam@bench.example")
                .role_assignments.order_by("agency_id")[0]
                .agency_id,
                "counts": "reused",
            }
        else:
            world = build(args.agencies, args.people, args.months, args.seed)
        print(f"{connection.vendor}, {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print("data:", world["counts"])
        agency = world["agency"]
        urls = [
            "/surveys/",
            "/surveys/?dimension=resolution_time&role=system_owner",
            f"/surveys/agencies/{agency}/",
            f"/surveys/agencies/{agency}/cockpit/",
            "/surveys/side-by-side/",
            "/surveys/export.xlsx",
            "/api/survey-results/?start=2021-12&end=2026-11",
            "/api/survey-results/?dimension=stability",
        ]
        print(f"{'who':<18} {'url':<58} {'p50':>7} {'p95':>7} {'max':>7} {'size':>9}")
        for who in ("manager", "kam"):
            client = Client()
            client.force_login(world[who])
            for url in urls:
                result = time_requests(client, url, args.repeat)
                print(
                    f"{who:<18} {url:<58} {result['p50']:7.1f} {result['p95']:7.1f} {result['max']:7.1f}"
                    f" {result['size'] / 1024:8.1f}K"
                )


if __name__ == "__main__":
    main()
