# ruff: noqa: S603, T201  (the bench starts its own processes and prints its figures)
"""Benchmark of e-bonding: vendor resolution → requester notified (webhook, polling), inbox apply rate, outbound.

    .venv/bin/python bench/vendors_bench.py                                   # temporary SQLite database
    DATABASE_URL=postgres://kompass:kompass@127.0.0.1:5432/kompass_b .venv/bin/python bench/vendors_bench.py --flush
    .venv/bin/python bench/vendors_bench.py --phases webhook --updates 200 --rate 50

Processes, all real: ``snowsim serve`` (HTTPS, no faults), Kompass under gunicorn (the webhook endpoint),
``--workers`` ``kompass db_worker`` processes for the ``vendors`` and ``notifications`` queues (or, with
``--notifications-workers N``, for ``vendors`` only and N more for ``notifications``, as in the Procfile), polling
for tasks every ``--interval`` seconds when idle, and for the polling phase ``kompass scheduler`` (poll every
``--poll-seconds``). This process creates the data and, as the vendor, writes to snowsim through its Table API.

Phases (``--phases``, default all):

1. **outbound**: ``--cases`` cases on a routed service created at once; cases/s until every one is linked at
   the vendor (create + the vendor's answer applied).
2. **webhook**: the vendor resolves ``--updates`` of those incidents at ``--rate`` updates/s; per case the time
   from the vendor's PATCH to the requester's "resolved" notification being sent (ledger ``sent_at``),
   p50/p95/max. snowsim pushes signed webhooks to Kompass.
3. **poll**: the same with no webhook (the subscription removed): the scheduler's poller finds the changes.
4. **apply**: ``--updates`` vendor comments written first, then pushed as inbox events at once; vendor updates
   applied per second by the workers (a claimed batch re-reads its records, journal and attachments through the
   Table API, one query per kind). ``--profile``: the workers stop and this process applies them under
   cProfile, counting SQL queries and HTTP requests per event (then delivers the notifications).

Prints one JSON line per measurement. No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else None


def cpu_by_role(roles):
    """CPU seconds (user + system) so far of every process under ``roles`` ({name: pid}, children included: the
    gunicorn workers) and of all PostgreSQL server processes, read from /proc (Linux only; {} elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    procs = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        procs[int(entry.name)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / ticks)
    out = collections.Counter()
    for _pid, (_ppid, comm, cpu) in procs.items():
        if comm.startswith("postgres"):
            out["postgresql"] += cpu
    for name, root in roles.items():
        for pid, (ppid, _comm, cpu) in procs.items():
            if pid == root or (ppid == root and name != "bench"):  # the bench's children are the others
                out[name] += cpu
    return out


def emit(**row):
    print(json.dumps(row), flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="vendors-bench-"))
        self.procs: list[subprocess.Popen] = []
        self.roles: dict[str, int] = {}
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
        # As in production: with DEBUG on, every process records every SQL query it runs (and wraps each cursor
        # to time it), which the figures before 2026-12-04 paid for. --debug keeps it on.
        os.environ["KOMPASS_DEBUG"] = "true" if args.debug else "false"
        os.environ["KOMPASS_EMAIL_URL"] = "dummymail://"
        os.environ["BENCH_SNOW_SECRET"] = "kompass"
        os.environ["BENCH_WEBHOOK_SECRET"] = "bench-hook"
        os.environ["KOMPASS_VENDORS_POLL_SECONDS"] = str(args.poll_seconds)
        os.environ["KOMPASS_DURABLE_DRAIN_INTERVAL"] = "2"
        import logging

        import django

        django.setup()
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per vendor write drowned the figures
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from kompass.core.models import Service

        if Service.objects.exists():  # a named database (PostgreSQL) keeps the last run's data
            if not args.flush:
                raise SystemExit("The database has data (a previous run?): pass --flush to empty it first.")
            call_command("flush", interactive=False, verbosity=0)

    def spawn(self, name, argv, env=None):
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env or os.environ.copy())
        self.procs.append(process)
        self.roles[name] = process.pid
        return process

    def cpu(self):
        return cpu_by_role({**self.roles, "bench": os.getpid()})

    def stop(self, process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def start(self):
        import httpx

        port = free_port()
        data = self.tmp / "snowsim"
        self.spawn("snowsim", [str(BIN / "snowsim"), "serve", "--port", str(port), "--data", str(data), "--memory"])
        self.url, self.ca = f"https://127.0.0.1:{port}", str(data / "tls" / "ca.pem")
        deadline = time.monotonic() + 30
        while True:
            try:
                if Path(self.ca).exists():
                    self.snow = httpx.Client(
                        base_url=self.url,
                        auth=("admin", "admin"),
                        verify=ssl.create_default_context(cafile=self.ca),
                        trust_env=False,
                        timeout=30,
                    )
                    self.snow.get("/snowsim/admin/faults").raise_for_status()
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "snowsim did not start"
            time.sleep(0.3)
        self.web_port = free_port()
        self.spawn(
            "web",
            [str(BIN / "gunicorn"), "kompass.wsgi:application", "--bind", f"127.0.0.1:{self.web_port}"]
            + ["--workers", "2", "--no-control-socket", "--graceful-timeout", "4"]
            + (["--threads", str(self.args.web_threads), "--keep-alive", "5"] if self.args.web_threads else []),
        )
        # --notifications-workers 0 (the default, as in the first figures): the --workers serve both queues;
        # N > 0: the --workers serve the vendors queue and N more the notifications queue, as in the Procfile.
        queues = "vendors" if self.args.notifications_workers else "vendors,notifications"
        layout = [(f"worker{n}", queues) for n in range(self.args.workers)]
        layout += [(f"notifications{n}", "notifications") for n in range(self.args.notifications_workers)]
        self.workers = [
            self.spawn(
                name,
                [str(BIN / "kompass"), "db_worker", "--queue-name", names]
                + ["--no-reload", "--no-startup-delay", "--interval", str(self.args.interval)],
            )
            for name, names in layout
        ]
        self.seed()

    def seed(self):
        from kompass.core.models import ApiToken, Service
        from kompass.testing.cast import make_agencies, make_cast
        from kompass.vendors.models import ServiceRoute, VendorConnection

        self.cast = make_cast(make_agencies())
        self.connection = VendorConnection.objects.create(
            name="Bench",
            base_url=self.url,
            ca_bundle=self.ca,
            username="kompass.integration",
            secret_env="BENCH_SNOW_SECRET",
            webhook_secret_env="BENCH_WEBHOOK_SECRET",
            timeout_seconds=10,
        )
        self.service = Service.objects.create(name="Benchdrift", delivery="vendor", vendor_name="Sim")
        ServiceRoute.objects.create(service=self.service, connection=self.connection)
        _token, self.token = ApiToken.issue(self.cast["vendor"], "bench webhook", scopes=["vendors:webhook"])

    def subscribe(self):
        response = self.snow.post(
            "/snowsim/admin/webhooks",
            json={
                "url": f"http://127.0.0.1:{self.web_port}/api/vendors/webhooks/{self.connection.pk}/",
                "secret": "bench-hook",
                "tables": ["incident"],
                "skip_updated_by": ["kompass.integration"],
                "require_correlation_id": True,
                "headers": {"Authorization": f"Token {self.token}"},
            },
        )
        response.raise_for_status()

    def unsubscribe(self):
        self.snow.delete("/snowsim/admin/webhooks").raise_for_status()

    # -- phases -----------------------------------------------------------------------------
    def outbound(self, n):
        from kompass.cases import services
        from kompass.cases.services import ChangeOrigin
        from kompass.vendors.models import VendorLink

        requester = self.cast["requester"]
        started = time.perf_counter()
        for i in range(n):
            services.create_case(
                requester=requester,
                service=self.service,
                title=f"Bench {i}",
                origin=ChangeOrigin.by_user(requester),
            )
        created = time.perf_counter() - started
        while VendorLink.objects.filter(case__service=self.service, sync_state="linked").count() < n:
            time.sleep(0.2)
            assert time.perf_counter() - started < 600, "outbound did not finish"
        elapsed = time.perf_counter() - started
        emit(phase="outbound", cases=n, seconds=round(elapsed, 1), cases_per_second=round(n / elapsed, 1),
             create_seconds=round(created, 1))  # fmt: skip

    def resolve_latency(self, phase, n, rate):
        from django.utils import timezone

        from kompass.vendors.models import VendorLink

        links = list(
            VendorLink.objects.filter(case__service=self.service, case__state__in=["new", "in_progress"])
            .exclude(sys_id="")
            .select_related("case")[:n]
        )
        marks = {}
        interval = 1.0 / rate
        cpu_before = self.cpu()
        started = time.perf_counter()
        for i, link in enumerate(links):
            due = started + i * interval
            time.sleep(max(0.0, due - time.perf_counter()))
            marks[link.case_id] = timezone.now()
            self.snow.patch(
                f"/api/now/table/incident/{link.sys_id}",
                json={"state": "6", "close_code": "Solved (Permanently)", "close_notes": f"Løst {i}"},
                auth=("itil.engineer1", "itil.engineer1"),
            ).raise_for_status()
        sent_rate = len(links) / (time.perf_counter() - started)
        latencies = self.wait_for_resolved(marks, timeout=120 + n / rate)
        wall = time.perf_counter() - started
        used = self.cpu() - cpu_before
        workers = sum(v for k, v in used.items() if k.startswith(("worker", "notifications")))
        emit(phase=phase, cpu_ms_per_update={"workers": round(workers * 1000 / max(1, len(links)), 1),
             **{k: round(v * 1000 / max(1, len(links)), 1) for k, v in sorted(used.items())
                if not k.startswith(("worker", "notifications"))}},
             cores_busy=round(sum(used.values()) / wall, 2), seconds=round(wall, 1))  # fmt: skip
        emit(phase=phase, updates=len(links), offered_rate=rate, achieved_rate=round(sent_rate, 1),
             informed=len(latencies), p50_ms=_ms(pct(latencies, 0.5)), p95_ms=_ms(pct(latencies, 0.95)),
             max_ms=_ms(max(latencies) if latencies else None), poll_seconds=self.args.poll_seconds)  # fmt: skip
        self.stages(phase, marks, {link.case_id: link.sys_id for link in links})
        if phase.startswith("webhook"):
            log = self.snow.get("/snowsim/admin/webhooks", params={"limit": str(len(links))}).json()["log"]
            took = [row["duration_ms"] / 1000 for row in log if row.get("duration_ms") is not None]
            emit(phase=phase, stage="snowsim POST to Kompass (its dispatcher is one thread)",
                 p50_ms=_ms(pct(took, 0.5)), p95_ms=_ms(pct(took, 0.95)),
                 max_ms=_ms(max(took) if took else None))  # fmt: skip

    def stages(self, phase, marks, sys_ids):
        """Where the time goes, per case, from the rows' own timestamps: the vendor's PATCH → the inbox row
        (the push or the poll arrived) → the event applied → the ledger row written → the notification sent."""
        from django.apps import apps
        from django.contrib.contenttypes.models import ContentType

        from kompass.vendors.models import InboxEvent

        delivery = apps.get_model("notifications", "Delivery")
        case_type = ContentType.objects.get(app_label="cases", model="case")
        inbox = collections.defaultdict(list)
        for sys_id, created, finished in (
            InboxEvent.objects.filter(sys_id__in=sys_ids.values())
            .order_by("created")
            .values_list("sys_id", "created", "finished")
        ):
            inbox[sys_id].append((created, finished))
        ledger = {
            int(object_id): (created, sent)
            for object_id, created, sent in delivery.objects.filter(
                content_type=case_type,
                object_id__in=[str(pk) for pk in marks],
                event="cases.resolved",
                channel="email",
            ).values_list("object_id", "created", "sent_at")  # fmt: skip
        }
        spans = collections.defaultdict(list)
        for case_id, mark in marks.items():
            event = next((e for e in inbox.get(sys_ids[case_id], ()) if e[0] >= mark), None)  # after the PATCH
            row = ledger.get(case_id)
            if not event or not row or not event[1] or not row[1]:
                continue
            spans["vendor PATCH -> inbox row"].append((event[0] - mark).total_seconds())
            spans["inbox row -> applied"].append((event[1] - event[0]).total_seconds())
            spans["applied -> ledger row"].append((row[0] - event[1]).total_seconds())
            spans["ledger row -> sent"].append((row[1] - row[0]).total_seconds())
        for stage, values in spans.items():
            emit(phase=phase, stage=stage, p50_ms=_ms(pct(values, 0.5)), p95_ms=_ms(pct(values, 0.95)),
                 max_ms=_ms(max(values)))  # fmt: skip

    def wait_for_resolved(self, marks, timeout):
        from django.apps import apps

        delivery = apps.get_model("notifications", "Delivery")
        from django.contrib.contenttypes.models import ContentType

        case_type = ContentType.objects.get(app_label="cases", model="case")
        deadline = time.monotonic() + timeout
        found = {}
        while time.monotonic() < deadline and len(found) < len(marks):
            rows = delivery.objects.filter(
                content_type=case_type,
                object_id__in=[str(pk) for pk in marks if pk not in found],
                event="cases.resolved",
                sent_at__isnull=False,
            ).values_list("object_id", "sent_at")
            for object_id, sent_at in rows:
                pk = int(object_id)
                found.setdefault(pk, (sent_at - marks[pk]).total_seconds())
            time.sleep(0.1)
        return list(found.values())

    def apply_rate(self, n):
        from kompass.core import durable
        from kompass.vendors.models import InboxEvent, VendorLink

        links = list(VendorLink.objects.filter(case__service=self.service).exclude(sys_id="")[:n])
        for link in links:  # one vendor comment each (a new sys_mod_count and a journal row)
            self.snow.patch(
                f"/api/now/table/incident/{link.sys_id}",
                json={"comments": "Oppdatering fra leverandøren."},
                auth=("itil.engineer1", "itil.engineer1"),
            ).raise_for_status()
        mods = {
            row["sys_id"]: int(row["sys_mod_count"])
            for row in self.snow.get(
                "/api/now/table/incident",
                params={
                    "sysparm_query": "correlation_idSTARTSWITHKOM-",
                    "sysparm_fields": "sys_id,sys_mod_count",
                    "sysparm_limit": "10000",
                },  # fmt: skip
            ).json()["result"]
        }
        before = InboxEvent.objects.filter(state="done").count()
        started = time.perf_counter()
        events = []
        for link in links:
            mod = mods[link.sys_id]
            events.append(
                InboxEvent(
                    connection=self.connection,
                    source="webhook",
                    event_id=f"bench:{link.sys_id}:{mod}",
                    sys_id=link.sys_id,
                    mod_count=mod,
                    payload={"sys_id": link.sys_id},
                )
            )
        InboxEvent.objects.bulk_create(events)
        if self.args.profile:
            return self.profile_apply(len(links), before, started)
        durable.kick(InboxEvent)
        while InboxEvent.objects.filter(state="done").count() - before < len(links):
            time.sleep(0.1)
            assert time.perf_counter() - started < 600, "apply did not finish"
        elapsed = time.perf_counter() - started
        emit(phase="apply", updates=len(links), workers=self.args.workers, seconds=round(elapsed, 2),
             updates_per_second=round(len(links) / elapsed, 1))  # fmt: skip

    def profile_apply(self, n, before, started):
        """``--profile``: the workers are stopped and this process applies the events (then delivers the
        notifications) under cProfile, counting SQL queries and HTTP requests per event."""
        import cProfile
        import pstats

        import httpx
        from django.db import connection

        from kompass.core import durable
        from kompass.vendors.models import InboxEvent

        for process in self.workers:
            self.stop(process)
        counts = {"sql": 0, "http": 0}
        shapes = collections.Counter()

        def count_sql(execute, sql, params, many, context):
            counts["sql"] += 1
            shapes[re.sub(r'"s\d+_x\d+"', '"s…"', sql)[:110]] += 1  # one line for every savepoint
            return execute(sql, params, many, context)

        send = httpx.Client.send

        def count_http(client, request, **kwargs):
            counts["http"] += 1
            return send(client, request, **kwargs)

        httpx.Client.send = count_http
        durable.autodiscover()
        # --profile-mode cpu: no cProfile (it doubles the CPU), only process_time and the query counts
        profiler = cProfile.Profile() if self.args.profile_mode == "cprofile" else None
        enable, disable = (profiler.enable, profiler.disable) if profiler else (lambda: None, lambda: None)
        cpu = time.process_time()
        wall = time.perf_counter()
        with connection.execute_wrapper(count_sql):
            enable()
            durable.PROCESSORS["vendors.inboxevent"].run("profile", budget_seconds=600)
            disable()
            applied, apply_cpu = time.perf_counter() - wall, time.process_time() - cpu
            inbox = dict(counts)
            enable()
            durable.PROCESSORS["notifications.delivery"].run("profile", budget_seconds=600)
            disable()
        httpx.Client.send = send
        cpu = time.process_time() - cpu
        done = InboxEvent.objects.filter(state="done").count() - before
        emit(phase="apply-profile", mode=self.args.profile_mode, updates=n, done=done,
             apply_seconds=round(applied, 2), cpu_seconds=round(cpu, 2),
             apply_cpu_ms_per_event=round(apply_cpu * 1000 / n, 2),
             deliver_cpu_ms_per_event=round((cpu - apply_cpu) * 1000 / n, 2), sql_per_event=round(inbox["sql"] / n, 1),
             http_per_event=round(inbox["http"] / n, 1),
             delivery_sql_per_event=round((counts["sql"] - inbox["sql"]) / n, 1), load=os.getloadavg())  # fmt: skip
        for shape, count in shapes.most_common():
            print(f"{count:6d}  {shape}")
        if profiler is None:
            return
        profiler.dump_stats(str(self.tmp / "apply.prof"))
        emit(profile=str(self.tmp / "apply.prof"))
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)

    def run(self):
        phases = self.args.phases.split(",")
        from django.db import connection

        args = self.args
        emit(database=connection.vendor, workers=args.workers, notifications_workers=args.notifications_workers,
             interval=args.interval, load=os.getloadavg())  # fmt: skip
        try:
            self.start()  # inside the try: a failed start stops what it started (no workers left polling)
            total = self.args.cases
            self.outbound(total)
            if "webhook" in phases:
                self.subscribe()
                if self.args.warmup:  # the first pushes meet processes that have served none yet: shown apart
                    self.resolve_latency("webhook-first", self.args.warmup, self.args.rate)
                    time.sleep(1)
                self.resolve_latency("webhook", self.args.updates, self.args.rate)
                self.unsubscribe()
            if "poll" in phases:
                scheduler = self.spawn("scheduler", [str(BIN / "kompass"), "scheduler", "--tick", "0.2"])
                time.sleep(2)
                self.resolve_latency("poll", min(self.args.updates, 50), min(self.args.rate, 10))
                self.stop(scheduler)
            if "apply" in phases:
                self.apply_rate(self.args.updates)
            emit(load=os.getloadavg())
        finally:
            for process in self.procs:
                self.stop(process)


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default="outbound,webhook,poll,apply")
    parser.add_argument("--cases", type=int, default=300, help="cases created (and linked) first")
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="vendor updates per second (webhook phase)")
    parser.add_argument("--poll-seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="webhook phase: this many resolutions first, on processes that have served none yet, reported "
        "apart as phase webhook-first (0: none; the measured phase is then the first)",
    )
    parser.add_argument("--notifications-workers", type=int, default=0)
    parser.add_argument("--web-threads", type=int, default=0,
                        help="gunicorn gthread workers with this many threads and keep-alive (0: sync workers, "
                        "as in the Procfile)")  # fmt: skip
    parser.add_argument("--debug", action="store_true", help="run Kompass with DEBUG on (as the figures before "
                        "2026-12-04 did: every query recorded)")  # fmt: skip
    parser.add_argument("--interval", type=float, default=0.1, help="the workers' idle poll interval (s)")
    parser.add_argument("--flush", action="store_true", help="empty a database that has data first (PostgreSQL)")
    parser.add_argument("--profile", action="store_true", help="apply phase in this process under cProfile")
    parser.add_argument("--profile-mode", choices=("cprofile", "cpu"), default="cprofile",
                        help="with --profile: cProfile, or only process_time and the queries (cpu)")  # fmt: skip
    args = parser.parse_args()
    args.cases = max(args.cases, args.updates * (2 if "apply" in args.phases else 1) + 50 + args.warmup)
    Bench(args).run()


if __name__ == "__main__":
    main()
