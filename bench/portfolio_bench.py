"""Benchmark the portfolio's map data and burn-down with 5,000 systems and 20,000 integrations.

    .venv/bin/python bench/portfolio_bench.py                      # temporary SQLite database
    DATABASE_URL=postgres://... .venv/bin/python bench/portfolio_bench.py   # an empty database (it is filled)
    .venv/bin/python bench/portfolio_bench.py --no-browser         # server times only

1. Builds the data in bulk: 50 agencies, 5,000 systems with profiles and transformations over eight
   waves, ~12,500 infrastructure items, 20,000 approved/active integrations between systems and with
   six external parties (each touching one or two agencies).
2. **Server time**: each endpoint is requested ``--repeat`` times in process with Django's test client
   (the full middleware stack, session auth, the access matrix, JSON/HTML rendering; no network),
   as an agreement manager (every row) and as an agency's system owner (one agency's share);
   prints p50/p95/max wall-clock milliseconds and the p50/p95 of the process's CPU time per request
   (``time.process_time``; on SQLite, which runs in process, that includes the queries; on a local
   PostgreSQL the backend's CPU time from /proc is added): what a request costs the server's cores,
   far less sensitive than wall time to other processes sharing the CPUs.
3. **Graph render**: serves the app with a threaded WSGI server, opens ``/portfolio/map/`` in headless
   Chromium (Debian's, through Playwright) as the agreement manager and as the system owner and measures
   from the start of the navigation until Cytoscape has painted its first frame (the page sets
   ``data-rendered`` two animation frames after the layout); the page also reports the fetch of the map
   data and the layout + paint time (``data-fetch-ms``, ``data-draw-ms``).
"""

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
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

    settings.ALLOWED_HOSTS = ["*"]  # the test client's "testserver" and the loopback server

    call_command("migrate", verbosity=0)


def build(systems: int, integrations: int, seed: int) -> dict:
    from auditlog.context import disable_auditlog
    from django.db import transaction

    from kompass.core.models import Agency, RoleAssignment, System, User
    from kompass.core.roles import Role
    from kompass.portfolio.models import (
        ExternalParty,
        InfrastructureItem,
        Integration,
        MigrationWave,
        SystemProfile,
        Transformation,
    )

    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic(), disable_auditlog():
        agencies = Agency.objects.bulk_create([Agency(name=f"Etat {n:02d}", short_code=f"E{n:02d}") for n in range(50)])
        manager = User.objects.create_user("avtale@bench.example", "bench", full_name="Avtale Forvalter")
        RoleAssignment.objects.create(user=manager, role=Role.AGREEMENT_MANAGER)
        owner = User.objects.create_user("eier@bench.example", "bench", full_name="System Eier")
        RoleAssignment.objects.create(user=owner, role=Role.SYSTEM_OWNER, agency=agencies[0])
        rows = System.objects.bulk_create(
            [System(agency=agencies[n % 50], name=f"System {n:05d}") for n in range(systems)], batch_size=1000
        )
        waves = [
            MigrationWave.objects.create(
                name=f"Bølge {n + 1}",
                starts_on=dt.date(2026, 1, 1) + dt.timedelta(days=137 * n),
                ends_on=dt.date(2026, 1, 1) + dt.timedelta(days=137 * n + 120),
            )
            for n in range(8)
        ]
        SystemProfile.objects.bulk_create([SystemProfile(system=s) for s in rows], batch_size=1000)
        transformations, items = [], []
        for index, system in enumerate(rows):
            wave = waves[index * 8 // systems]
            done = wave.ends_on < dt.date(2026, 12, 1)
            transformations.append(
                Transformation(
                    system=system,
                    wave=wave,
                    status="migrated" if done else "planned",
                    completed_on=wave.ends_on if done else None,
                )
            )
            for n in range(rng.randint(1, 4)):
                items.append(
                    InfrastructureItem(
                        system=system,
                        kind="server",
                        name=f"srv-{system.pk}-{n}",
                        decommissioned_on=wave.ends_on if done else None,
                    )
                )
        Transformation.objects.bulk_create(transformations, batch_size=1000)
        InfrastructureItem.objects.bulk_create(items, batch_size=2000)
        parties = [ExternalParty.objects.create(name=f"Register {n}") for n in range(6)]
        new = []
        for n in range(integrations):
            consumer = rng.choice(rows)
            external = rng.random() < 0.15
            provider = None if external else rng.choice(rows)
            if provider == consumer:
                provider = rows[(rows.index(consumer) + 1) % len(rows)]
            new.append(
                Integration(
                    name=f"Integrasjon {n:05d}",
                    provider_system=provider,
                    provider_party=rng.choice(parties) if external else None,
                    consumer_system=consumer,
                    status=rng.choice(["active", "active", "active", "approved"]),
                    approved_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                    technology=rng.choice(["api", "file", "message_queue", "database_link"]),
                )
            )
        Integration.objects.bulk_create(new, batch_size=2000)
        through = Integration.agencies.through
        through.objects.bulk_create(
            [
                through(integration_id=i.pk, agency_id=agency)
                for i in new
                for agency in {s.agency_id for s in (i.provider_system, i.consumer_system) if s is not None}
            ],
            batch_size=5000,
        )
    # Planner statistics, as a live database has them (PostgreSQL's autovacuum, SQLite's sqlite_stat1): without
    # them PostgreSQL plans the conflict join as nested loops over 17,000 rows (4x slower).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"manager": manager, "owner": owner, "seconds": time.perf_counter() - started, "items": len(items)}


def _database_cpu() -> float:
    """CPU milliseconds used so far by this connection's PostgreSQL backend (same machine: /proc), else 0.

    Linux counts in clock ticks (10 ms), so single values are coarse; medians over the repeats are not.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    global _BACKEND_PID
    if _BACKEND_PID is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            _BACKEND_PID = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{_BACKEND_PID}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


_BACKEND_PID = None


def time_requests(client, url: str, repeat: int) -> dict:
    client.get(url)  # warm: templates, query plans
    times, cpu = [], []
    size = 0
    for _ in range(repeat):
        started, started_cpu, started_db = time.perf_counter(), time.process_time(), _database_cpu()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu + (_database_cpu() - started_db) / 1000) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    times.sort()
    cpu.sort()
    p95 = max(0, int(round(0.95 * len(times))) - 1)
    return {
        "p50": statistics.median(times),
        "p95": times[p95],
        "max": times[-1],
        "cpu50": statistics.median(cpu),
        "cpu95": cpu[p95],
        "bytes": size,
    }


def _renderer_cpu(cdp) -> float:
    """CPU milliseconds the page's renderer process has used (Chromium's ``ProcessTime`` metric; 0 if absent)."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics.get("ProcessTime", 0.0) * 1000


def browser_render(users, runs: int) -> dict:
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application
    from django.test import Client
    from playwright.sync_api import sync_playwright

    class Threaded(WSGIServer):
        daemon_threads = True

        def process_request(self, request, client_address):
            threading.Thread(target=self._handle, args=(request, client_address), daemon=True).start()

        def _handle(self, request, client_address):
            try:
                self.finish_request(request, client_address)
            finally:
                self.shutdown_request(request)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, StaticFilesHandler(get_wsgi_application()), Threaded, Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    results = {}
    sessions = {}
    for role, user in users.items():  # before Playwright: its loop makes this thread "async" to Django
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for role, session in sessions.items():
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            runs_of_role = []
            for _ in range(runs):
                before = _renderer_cpu(cdp)
                started = time.perf_counter()
                page.goto(f"{base}/portfolio/map/")
                page.wait_for_selector("#integration-map[data-rendered]", timeout=60_000)
                total = (time.perf_counter() - started) * 1000
                cpu = _renderer_cpu(cdp) - before
                attrs = page.eval_on_selector(
                    "#integration-map",
                    "e => [e.dataset.rendered, e.dataset.fetchMs, e.dataset.layoutMs, e.dataset.drawMs]",
                )
                runs_of_role.append((total, *attrs, cpu))
            context.close()
            results[role] = runs_of_role
        chromium.close()
    server.shutdown()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=5000)
    parser.add_argument("--integrations", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="graph renders in Chromium")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="kompass-portfolio-bench-")
    setup_django(var_dir)
    from django.db import connection
    from django.test import Client

    print(f"Python {platform.python_version()}, {connection.vendor}, {os.cpu_count()} CPUs")
    data = build(args.systems, args.integrations, args.seed)
    print(
        f"Built {args.systems} systems, {args.integrations} integrations, {data['items']} infrastructure items "
        f"in {data['seconds']:.1f} s"
    )
    rows = []
    for role in ("manager", "owner"):
        client = Client()
        client.force_login(data[role])
        for url in (
            "/api/portfolio/map/",
            "/api/portfolio/map/",
            "/portfolio/map/",
            "/portfolio/transformation/",
            "/api/portfolio/burn-down/?start=2026-01-01&end=2028-12-31",
        ):
            result = time_requests(client, url, args.repeat)
            rows.append((role, url, result))
            print(
                f"  {role:<8} {url:<60} p50 {result['p50']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
                f"max {result['max']:7.1f} ms  cpu p50 {result['cpu50']:6.1f} p95 {result['cpu95']:6.1f} ms  "
                f"{result['bytes'] / 1024:8.0f} KiB"
            )
    print()
    print("| Who | Endpoint | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms | size |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for role, url, r in rows:
        print(
            f"| {role} | `{url}` | {r['p50']:.0f} | {r['p95']:.0f} | {r['max']:.0f} | {r['cpu50']:.0f} | "
            f"{r['cpu95']:.0f} | {r['bytes'] / 1024:.0f} KiB |"
        )
    if not args.no_browser:
        results = browser_render({"manager": data["manager"], "owner": data["owner"]}, args.runs)
        for role, runs in results.items():
            totals = [r[0] for r in runs]
            detail = "; ".join(
                f"{t:.0f} (fetch {f}, layout {lay}, painted {d}; renderer CPU {c:.0f})" for t, _n, f, lay, d, c in runs
            )
            print(f"Graph render in Chromium, {role}, {runs[0][1]} elements, navigation → painted, ms: {detail}")
            print(f"  median {statistics.median(totals):.0f} ms, max {max(totals):.0f} ms")


if __name__ == "__main__":
    main()
