"""The e-bonding chaos test: Kompass web + workers + scheduler against ``snowsim serve`` with faults and its
vendor agents, the worker killed mid-delivery and restarted, the instance down for a while.

Processes: ``snowsim serve`` (HTTPS, faults, signed webhooks to Kompass's live server with the integration
token), ``KOMPASS_CHAOS_AGENTS`` (4) ``snowsim vendor-agent`` processes, one engineer each (they work the
incidents: pick-up, comments, Awaiting Caller, resolve; the server auto-closes), ``KOMPASS_CHAOS_WORKERS`` (3)
``kompass db_worker`` processes for the ``vendors`` and ``notifications`` queues (one killed with SIGKILL and
restarted), and the real ``kompass scheduler`` (the poll job every ``KOMPASS_CHAOS_POLL_SECONDS``, 5, and core's
durable drain every 2 s); this process is the web server (pytest-django's live server) and the requesters (who
answer when their case waits for them).

Size: ``KOMPASS_CHAOS_CASES`` cases (see docs/e-bonding.md for the measured times). The run asserts at least
five vendor-side updates per case. ``KOMPASS_CHAOS_TIMEOUT`` (default 900 s) bounds the settling time.
"""

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from django.db import connection as db
from django.utils import timezone

from kompass.cases import services
from kompass.cases.services import ChangeOrigin
from kompass.core import durable
from kompass.core.models import ApiToken, Service
from kompass.notifications import services as notifications
from kompass.vendors import health, reconcile, sync
from kompass.vendors.models import InboxEvent, OutboxMessage, ServiceRoute, VendorConnection, VendorLink
from kompass.vendors.tasks import poll_vendors

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CASES = int(os.environ.get("KOMPASS_CHAOS_CASES", "300"))
TIMEOUT = float(os.environ.get("KOMPASS_CHAOS_TIMEOUT", "900"))
#: Worker processes for the vendors and notifications queues (their network waits overlap).
WORKERS = int(os.environ.get("KOMPASS_CHAOS_WORKERS", "3"))
#: Vendor agent processes (one engineer each, at most 4 engineers).
AGENTS = int(os.environ.get("KOMPASS_CHAOS_AGENTS", "4"))
#: The scheduler's poll interval in the run (seconds).
POLL_SECONDS = int(os.environ.get("KOMPASS_CHAOS_POLL_SECONDS", "5"))
FAULTS = (
    "error500=0.08,error503=0.12,rate429=0.05,retry_after=1,timeout=0.01,timeout_s=4,lost_response=0.04,"
    "latency_ms=0-20,webhook_drop=0.15,webhook_dup=0.15,webhook_delay_ms=0-800,webhook_reorder=0.2"
)
ACTIVE = ["pending", "claimed"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    settings = db.settings_dict
    if db.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


@pytest.fixture
def simulator(tmp_path):
    port, data = free_port(), tmp_path / "snowsim"
    bin_dir = Path(sys.executable).parent
    log = open(tmp_path / "snowsim.log", "w")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [str(bin_dir / "snowsim"), "serve", "--port", str(port), "--data", str(data), "--memory", "--seed", "11"]
        + ["--faults", FAULTS, "--autoclose-after", "2", "--autoclose-interval", "1", "--webhook-workers", "4"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url, ca = f"https://127.0.0.1:{port}", data / "tls" / "ca.pem"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, (tmp_path / "snowsim.log").read_text()
        if ca.exists():
            try:
                admin = httpx.Client(
                    base_url=url,
                    auth=("admin", "admin"),
                    verify=ssl.create_default_context(cafile=str(ca)),
                    trust_env=False,
                    timeout=30,
                )
                admin.get("/snowsim/admin/faults").raise_for_status()
                break
            except httpx.HTTPError:
                pass
        assert time.monotonic() < deadline, "snowsim did not start"
        time.sleep(0.2)
    yield url, str(ca), admin
    admin.close()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def progress(elapsed, service):
    states = Counter(services.Case.objects.filter(service=service).values_list("state", flat=True))
    outbox = OutboxMessage.objects.filter(state__in=ACTIVE).count()
    inbox = InboxEvent.objects.filter(state__in=ACTIVE).count()
    print(f"[{elapsed:5.0f} s] outbox {outbox}, inbox {inbox}, cases {dict(states)}", flush=True)


class Processes:
    def __init__(self, tmp_path, env):
        self.tmp_path, self.env, self.workers, self.agents, self.scheduler = tmp_path, env, [], [], None

    def start_worker(self):
        bin_dir = Path(sys.executable).parent
        worker = subprocess.Popen(  # noqa: S603
            [str(bin_dir / "kompass"), "db_worker", "--queue-name", "vendors,notifications"]
            + ["--no-reload", "--no-startup-delay", "--interval", "0.2"],
            env=self.env,
            stdout=open(self.tmp_path / "worker.log", "a"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)

    def start_scheduler(self):
        """The real ``kompass scheduler``: the poll job every few seconds and core's durable drain."""
        bin_dir = Path(sys.executable).parent
        self.scheduler = subprocess.Popen(  # noqa: S603
            [str(bin_dir / "kompass"), "scheduler", "--tick", "0.5"],
            env=self.env,
            stdout=open(self.tmp_path / "scheduler.log", "a"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )

    def kill_worker(self):
        worker = self.workers.pop(0)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def start_agents(self, url, ca, count):
        """``count`` vendor agents, one engineer each (a ticket another agent assigned is left to it): one agent
        works its tickets one request at a time, and every 429/503 makes it wait the Retry-After (≥ 1 s)."""
        bin_dir = Path(sys.executable).parent
        for n in range(count):
            engineer = f"itil.engineer{n % 4 + 1}"
            self.agents.append(
                subprocess.Popen(  # noqa: S603
                    [str(bin_dir / "snowsim"), "vendor-agent", "--url", url, "--ca", ca, "--speed", "30"]
                    + ["--seed", str(5 + n), "--user", engineer, "--engineers", engineer]
                    + ["--hold-probability", "0.3", "--burst-probability", "0.6", "--caller-timeout", "600"]
                    + ["--tables", "incident"],
                    stdout=open(self.tmp_path / f"agent{n}.log", "a"),  # noqa: SIM115
                    stderr=subprocess.STDOUT,
                )
            )

    def stop(self):
        for process in (*self.workers, *self.agents, self.scheduler):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_chaos_every_change_arrives_once_and_every_requester_hears(
    simulator, live_server, cast, agencies, tmp_path, monkeypatch
):
    url, ca, admin = simulator
    monkeypatch.setenv("CHAOS_SNOW_SECRET", "kompass")
    monkeypatch.setenv("CHAOS_WEBHOOK_SECRET", "chaos-hook")
    sync.reset_transports()
    connection = VendorConnection.objects.create(
        name="Kaos",
        base_url=url,
        ca_bundle=ca,
        username="kompass.integration",
        secret_env="CHAOS_SNOW_SECRET",
        webhook_secret_env="CHAOS_WEBHOOK_SECRET",
        timeout_seconds=3,
    )
    service = Service.objects.create(name="Kaosdrift", delivery="vendor", vendor_name="Sim")
    ServiceRoute.objects.create(service=service, connection=connection)
    _token, key = ApiToken.issue(cast["vendor"], "snowsim webhook", scopes=["vendors:webhook"])
    admin.post(
        "/snowsim/admin/webhooks",
        json={
            "url": f"{live_server.url}/api/vendors/webhooks/{connection.pk}/",
            "secret": "chaos-hook",
            "tables": ["incident"],
            "skip_updated_by": ["kompass.integration"],
            "require_correlation_id": True,
            "headers": {"Authorization": f"Token {key}"},
        },
    ).raise_for_status()

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "KOMPASS_EMAIL_URL": "dummymail://",
        "KOMPASS_VENDORS_LEASE_SECONDS": "8",
        # A row that met several faults in a row waits at most 10 s, not the production 120 s: the run's tail
        # is not spent waiting out back-offs (the faults and every assertion are the same).
        "KOMPASS_VENDORS_RETRY_CAP_SECONDS": "10",
        "KOMPASS_VENDORS_POLL_SECONDS": str(POLL_SECONDS),
        "KOMPASS_DURABLE_DRAIN_INTERVAL": "2",
        "KOMPASS_VENDORS_RECONCILE_MINUTES": "600",  # the test reconciles itself at the end
        "CHAOS_SNOW_SECRET": "kompass",
    }
    procs = Processes(tmp_path, env)
    for _ in range(WORKERS):
        procs.start_worker()
    procs.start_scheduler()
    procs.start_agents(url, ca, AGENTS)
    started = time.monotonic()
    try:
        requesters = [cast["requester"]]
        for n in range(CASES):
            requester = requesters[n % len(requesters)]
            services.create_case(
                requester=requester,
                service=service,
                title=f"Kaossak {n}",
                description="Feil under kaos.",
                impact=1 + n % 3,
                urgency=1 + (n // 3) % 3,
                origin=ChangeOrigin.by_user(requester),
            )
        killed = down = False
        last_poll, open_cases = 0.0, CASES
        while True:
            now = time.monotonic()
            if not killed and OutboxMessage.objects.filter(state="done").count() > CASES // 3:
                procs.kill_worker()  # mid-delivery: its claimed rows wait for their lease to run out
                time.sleep(1)
                procs.start_worker()
                killed = True
            if not down and now - started > 20:
                admin.post("/snowsim/admin/down", params={"seconds": 5}).raise_for_status()
                down = True
            for case in services.Case.objects.filter(service=service, state="waiting_requester"):
                if not case.replys.filter(origin="user", created__gte=case.updated).exists():
                    services.add_reply(
                        case, f"Svar fra innmelder på {case.number}.", origin=ChangeOrigin.by_user(case.requester)
                    )
            if now - last_poll > 10:  # the scheduler process polls and drains; this only reports
                last_poll = now
                progress(now - started, service)
                assert procs.scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()[-2000:]
            open_cases = services.Case.objects.filter(service=service).exclude(state="closed").count()
            busy = (
                OutboxMessage.objects.filter(state__in=ACTIVE).exists()
                or InboxEvent.objects.filter(state__in=ACTIVE).exists()
            )
            if not open_cases and not busy:
                break
            assert now - started < TIMEOUT, (
                f"not settled after {TIMEOUT:.0f} s: {open_cases} cases open, "
                f"outbox {OutboxMessage.objects.filter(state__in=ACTIVE).count()}, "
                f"inbox {InboxEvent.objects.filter(state__in=ACTIVE).count()}"
            )
            time.sleep(1)
        settled = time.monotonic() - started

        # Faults off; a last poll and drain, then the end state.
        admin.put("/snowsim/admin/faults", json={"replace": True}).raise_for_status()
        poll_vendors.call()
        quiet = 0
        for _ in range(60):  # settled: no push left at the vendor, nothing in flight, twice in a row
            durable.drain()
            pushes = admin.get("/snowsim/admin/webhooks", params={"limit": 1}).json()["pending"]
            busy = (
                OutboxMessage.objects.filter(state__in=ACTIVE).exists()
                or InboxEvent.objects.filter(state__in=ACTIVE).exists()
            )
            quiet = 0 if (pushes or busy) else quiet + 1
            if quiet >= 3:
                break
            time.sleep(1)
        vendor = sync.transport(connection)
        remote = vendor._list(
            "incident",
            "correlation_idSTARTSWITHKOM-^ORDERBYsys_id",
            fields=["correlation_id", "sys_mod_count"],
            limit=10000,
        )
        run = reconcile.reconcile(trigger="chaos")
    finally:
        procs.stop()

    links = VendorLink.objects.select_related("case")
    per_correlation = Counter(row["correlation_id"] for row in remote)
    vendor_updates = sum(int(row["sys_mod_count"]) for row in remote)
    dead = OutboxMessage.objects.filter(state="dead").count() + InboxEvent.objects.filter(state="dead").count()
    refused = list(OutboxMessage.objects.filter(refused=True).values_list("last_error", flat=True))
    resolved_changes = sum(
        1
        for link in links
        for change in link.case.changes.filter(origin="vendor", kind="state")
        if change.detail.get("to") == "resolved"
    )
    resolved_keys = Counter(
        d.key
        for link in links
        for d in notifications.deliveries_for(link.case)
        if d.event == "cases.resolved" and d.recipient_id == link.case.requester_id
    )
    undelivered = sum(1 for link in links for d in notifications.deliveries_for(link.case) if d.state != "done")
    not_informed = health.requesters_not_informed(minutes=0)
    print(
        f"\nchaos: {CASES} cases, {len(remote)} remote records, {vendor_updates} vendor-side updates, "
        f"settled in {settled:.0f} s; reconciliation: {run.summary}; dead {dead}, refused {len(refused)}; "
        f"resolutions {resolved_changes}, resolved notifications {len(resolved_keys)}; "
        f"outbox {OutboxMessage.objects.count()} rows, inbox {InboxEvent.objects.count()} rows"
    )
    for message in OutboxMessage.objects.filter(refused=True).select_related("link__case"):
        history = list(message.link.case.changes.values_list("kind", "origin", "detail"))
        print(f"refused #{message.pk} {message.kind} on {message.link.case.number}: {message.last_error}; {history}")
    assert links.count() == CASES
    assert len(per_correlation) == CASES and set(per_correlation.values()) == {1}, "duplicate remote records"
    assert vendor_updates >= 5 * CASES
    assert run.error == "" and run.attention == 0 and run.checked == CASES, run.drift[:5]
    assert dead == 0
    assert all("403" in error for error in refused)  # a refused write is explained: the vendor's 403
    assert len(resolved_keys) == resolved_changes and resolved_changes >= CASES
    assert undelivered == 0 and not not_informed
    assert not OutboxMessage.objects.filter(state__in=ACTIVE).exists()
    assert not InboxEvent.objects.filter(state__in=ACTIVE).exists()
    assert timezone.now()
