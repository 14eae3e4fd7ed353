# ruff: noqa: S608, S607  (SQL from the bench's own table and column names; wrk from PATH)
"""Benchmark of the service desk workspace at scale: seeding, the queue, full-text search, case creation.

    .venv/bin/python bench/cases_bench.py                                  # SQLite in var/bench-cases/
    DATABASE_URL=postgres://kompass:kompass@127.0.0.1:5432/kompass_a .venv/bin/python bench/cases_bench.py
    .venv/bin/python bench/cases_bench.py --cases 100000 --phases seed,queue,search --json out.json
    .venv/bin/python bench/cases_bench.py --reuse --phases create --duration 60   # reuse the seeded database

Phases (``--phases``, default all):

1. **seed**: ``--cases`` cases (default 1,000,000) and about ``--entries`` conversation entries per case
   (default 5: public replies and, one in five, an internal note), with their search documents, by bulk inserts
   (``COPY`` on PostgreSQL, ``executemany`` on SQLite), past the services (which would take hours). The search
   indexes (PostgreSQL's GIN indexes, SQLite's FTS5 table) are filled after the rows, then ``ANALYZE``.
   50 agencies with Zipf-like volumes (the largest has ~18 %), states, priorities and due times spread like a
   real queue; titles and texts from a Norwegian word list plus rare words for selective searches.
2. **queue**: the agents' queue page ``/cases/`` filtered by agency + state + priority, soonest due first: the
   first page and page 500 (by the keyset cursor of the 24,950th row), and the API's offset page 500 for
   comparison; ``--repeat`` requests each with Django's test client in this process (server time through the
   whole stack: middleware, session, matrix, filters, template), p50/p95/max in ms.
3. **search**: ``?q=`` on the queue page and the API: a rare word, a common one and two words, as a service desk
   agent (internal notes searched too) and as an agency IT contact (public text only, one agency).
4. **create**: ``POST /api/cases/`` under gunicorn (2 workers, its own process group) with ``wrk`` on loopback
   for ``--duration`` seconds (``--connections``); 64 API tokens in turn, since the API throttles each token to
   1,200 requests a minute per process. Cases/s, latency, non-2xx responses, errors.

Prints one JSON line per measurement and a Markdown table at the end. No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMMON = ["skriver", "pålogging", "tilgang", "lisens", "feilmelding", "treg", "passord", "utskrift", "epost", "vpn"]
FILLER = (
    "jeg får ikke til å logge inn i systemet etter oppdateringen i dag og kollegaene mine har samme problem med "
    "skjermen nettverket programmet kontoret filene rapporten møterommet telefonen brukeren tjenesten saken"
).split()
RARE_WORDS = 20_000  # "sjeldenord<n>": each in about cases / RARE_WORDS documents
TITLE_STARTS = ["Får ikke", "Problem med", "Feil i", "Spørsmål om", "Bestilling av", "Endring av"]
STATES = [("new", 8), ("in_progress", 22), ("waiting_requester", 5), ("waiting_vendor", 3), ("resolved", 7),
          ("closed", 52), ("cancelled", 3)]  # fmt: skip
OPEN = {"new", "in_progress", "waiting_requester", "waiting_vendor"}


def setup_django(var_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
    os.environ.setdefault("KOMPASS_ENV", "test")
    os.environ["KOMPASS_VAR_DIR"] = str(var_dir)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def vendor() -> str:
    from django.db import connection

    return connection.vendor


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


def _people_and_catalogue():
    from kompass.core.models import Agency, RoleAssignment, Service, User
    from kompass.core.roles import Role

    agencies = list(Agency.objects.filter(short_code__startswith="B").order_by("pk"))
    if not agencies:
        agencies = Agency.objects.bulk_create(
            [Agency(name=f"Benkeetat {n:02d}", short_code=f"B{n:02d}") for n in range(50)]
        )
    service, _ = Service.objects.get_or_create(name="Benketjeneste", defaults={"vendor_name": "Benk"})
    for agency in agencies:
        agency.services.add(service)
    desk, created = User.objects.get_or_create(email="desk@bench.example", defaults={"full_name": "Desk Agent"})
    if created:
        desk.set_password("bench")
        desk.save()
        RoleAssignment.objects.create(user=desk, role=Role.SERVICE_DESK_AGENT)
    contact, created = User.objects.get_or_create(
        email="it@bench.example", defaults={"full_name": "IT Kontakt", "home_agency": agencies[0]}
    )
    if created:
        RoleAssignment.objects.create(user=contact, role=Role.AGENCY_IT_CONTACT, agency=agencies[0])
    requesters = []
    for n in range(200):
        user, _ = User.objects.get_or_create(
            email=f"ansatt{n}@bench.example", defaults={"full_name": f"Ansatt {n}", "home_agency": agencies[n % 50]}
        )
        requesters.append(user)
    return agencies, service, desk, contact, requesters


def _weights(n: int) -> list[float]:
    return [1 / (rank + 1) ** 0.9 for rank in range(n)]


def seed(cases: int, entries: float, rng: random.Random) -> dict:
    from django.db import connection, transaction

    from kompass.cases.models import Case, CaseSearch, Note, Reply

    agencies, service, desk, contact, requesters = _people_and_catalogue()
    by_agency: dict[int, list[int]] = {}
    for user in requesters:
        by_agency.setdefault(user.home_agency_id, []).append(user.pk)
    start_id = (Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    base = datetime(2026, 12, 1, 8, tzinfo=UTC)
    agency_weights = _weights(len(agencies))
    state_names, state_weights = zip(*STATES, strict=True)
    timings = {}

    case_fields = list(Case._meta.concrete_fields)
    case_columns = [f.column for f in case_fields]
    entry_columns = ["id", "case_id", "author_id", "author_name", "text", "origin", "created"]
    reply_columns = [*entry_columns, "source_message_id", "full_text"]
    note_columns = [*entry_columns, "share_with_vendor"]
    search_columns = ["case_id", "heading", "body", "internal"]

    def case_rows():
        reply_id = (Reply.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        note_id = (Note.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        for n in range(cases):
            pk = start_id + n
            agency = agencies[rng.choices(range(len(agencies)), agency_weights)[0]]
            state = rng.choices(state_names, state_weights)[0]
            priority = rng.choices([1, 2, 3, 4], [2, 10, 50, 38])[0]
            created = base - timedelta(minutes=rng.randrange(365 * 24 * 60))
            due = None if state == "cancelled" else created + timedelta(hours=rng.choice([4, 8, 24, 72, 120, 240]))
            common = rng.choice(COMMON)
            title = f"{rng.choice(TITLE_STARTS)} {common} {rng.choice(FILLER)}"
            rare = f"sjeldenord{rng.randrange(RARE_WORDS)}"
            description = " ".join(rng.choices(FILLER, k=14) + [rare])
            values = {
                "id": pk,
                "number": f"KOM-B-{pk:08d}",
                "type": "incident",
                "requester_id": rng.choice(by_agency[agency.pk]) if agency.pk in by_agency else requesters[0].pk,
                "service_id": service.pk,
                "system_id": None,
                "title": title,
                "description": description,
                "impact": 3,
                "urgency": 3,
                "priority": priority,
                "category": "",
                "team": "Servicedesk" if state != "new" else "",
                "assignee_id": desk.pk if state != "new" else None,
                "source": "portal",
                "state": state,
                "parent_id": None,
                "duplicate_of_id": None,
                "source_message_id": None,
                "created": created,
                "updated": created,
                "responded_at": None if state == "new" else created + timedelta(minutes=30),
                "resolved_at": created + timedelta(hours=20) if state in ("resolved", "closed") else None,
                "closed_at": created + timedelta(days=8) if state in ("closed", "cancelled") else None,
                "resolution": "",
                "sla_response": "{}",
                "sla_resolution": "{}",
                "sla_history": "[]",
                "response_due": created + timedelta(hours=1),
                "response_breached": False,
                "response_breached_at": None,
                "resolution_due": due,
                "resolution_warning": False,
                "resolution_breached": bool(due and state in OPEN and due < base),
                "resolution_breached_at": None,
                "sla_state": "breached" if due and state in OPEN and due < base else "ok",
                "sla_next_check": None,
                "rating": None,
                "rating_comment": "",
                "rated_at": None,
                "agency_id": agency.pk,
            }
            replies, notes = [], []
            count = min(12, max(0, round(rng.gauss(entries, 1.5))))
            for i in range(count):
                words = " ".join(rng.choices(FILLER, k=10))
                when = created + timedelta(hours=i + 1)
                if rng.random() < 0.2:
                    text = f"Internt: {words} notatord{rng.randrange(RARE_WORDS)}"
                    notes.append((note_id, pk, desk.pk, "", text, "user", when, False))
                    note_id += 1
                else:
                    replies.append((reply_id, pk, desk.pk, "", f"{words}.", "user", when, None, ""))
                    reply_id += 1
            heading = f"{title} {values['number']} {values['number'].replace('-', ' ')}"
            document = (
                pk,
                heading,
                "\n".join([description, *(r[4] for r in replies)]),
                "\n".join(n[4] for n in notes),
            )
            yield [values[f.attname] for f in case_fields], replies, notes, document

    started = time.perf_counter()
    totals = {"cases": 0, "replies": 0, "notes": 0}
    gin = [f"cases_search_{t}_{c}_gin" for t in ("public", "internal") for c in ("norwegian", "simple")]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for name in gin:
                    cursor.execute(f"DROP INDEX IF EXISTS {name}")
                raw = cursor.cursor
                batch = []

                def flush(batch):
                    with raw.copy(f"COPY cases_case ({','.join(case_columns)}) FROM STDIN") as copy:
                        for row, *_rest in batch:
                            copy.write_row(row)
                    with raw.copy(f"COPY cases_reply ({','.join(reply_columns)}) FROM STDIN") as copy:
                        for _row, replies, _notes, _doc in batch:
                            for reply in replies:
                                copy.write_row(reply)
                    with raw.copy(f"COPY cases_note ({','.join(note_columns)}) FROM STDIN") as copy:
                        for _row, _replies, notes, _doc in batch:
                            for note in notes:
                                copy.write_row(note)
                    with raw.copy(f"COPY cases_casesearch ({','.join(search_columns)}) FROM STDIN") as copy:
                        for *_rest, doc in batch:
                            copy.write_row(doc)

                for item in case_rows():
                    batch.append(item)
                    totals["cases"] += 1
                    totals["replies"] += len(item[1])
                    totals["notes"] += len(item[2])
                    if len(batch) == 20_000:
                        flush(batch)
                        batch = []
                        _progress(totals, started)
                if batch:
                    flush(batch)
                timings["rows_s"] = time.perf_counter() - started
                index_started = time.perf_counter()
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred foreign keys now
                for name in gin:
                    column = name.removeprefix("cases_search_").removesuffix("_gin")
                    cursor.execute(f"CREATE INDEX {name} ON cases_casesearch USING gin ({column})")
                for table in ("cases_case", "cases_reply", "cases_note"):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                timings["indexes_s"] = time.perf_counter() - index_started
        else:
            with connection.cursor() as cursor:
                placeholders = lambda n: ",".join(["%s"] * n)  # noqa: E731
                batch = []

                def flush(batch):
                    cursor.executemany(
                        f"INSERT INTO cases_case ({','.join(case_columns)}) VALUES ({placeholders(len(case_columns))})",
                        [row for row, *_rest in batch],
                    )
                    cursor.executemany(
                        f"INSERT INTO cases_reply ({','.join(reply_columns)}) VALUES ({placeholders(9)})",
                        [r for _row, replies, _n, _d in batch for r in replies],
                    )
                    cursor.executemany(
                        f"INSERT INTO cases_note ({','.join(note_columns)}) VALUES ({placeholders(8)})",
                        [n for _row, _r, notes, _d in batch for n in notes],
                    )
                    cursor.executemany(
                        f"INSERT INTO cases_casesearch ({','.join(search_columns)}) VALUES ({placeholders(4)})",
                        [doc for *_rest, doc in batch],
                    )

                adapt = connection.ops.adapt_datetimefield_value

                def plain(row):  # SQLite stores datetimes as Django writes them: naive UTC text
                    return [adapt(v) if isinstance(v, datetime) else v for v in row]

                for row, replies, notes, doc in case_rows():
                    item = (plain(row), [plain(r) for r in replies], [plain(n) for n in notes], doc)
                    batch.append(item)
                    totals["cases"] += 1
                    totals["replies"] += len(item[1])
                    totals["notes"] += len(item[2])
                    if len(batch) == 20_000:
                        flush(batch)
                        batch = []
                        _progress(totals, started)
                if batch:
                    flush(batch)
                timings["rows_s"] = time.perf_counter() - started
                index_started = time.perf_counter()
                cursor.execute(
                    "INSERT INTO cases_casesearch_fts (rowid, heading, body, internal) "
                    "SELECT case_id, heading, body, internal FROM cases_casesearch WHERE case_id >= %s",
                    [start_id],
                )
                timings["indexes_s"] = time.perf_counter() - index_started
    analyze_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["analyze_s"] = time.perf_counter() - analyze_started
    timings["total_s"] = time.perf_counter() - started
    assert CaseSearch.objects.filter(case_id__gte=start_id).count() == cases
    return {**totals, **timings}


def _progress(totals, started):
    print(f"  … {totals['cases']:,} cases, {totals['replies'] + totals['notes']:,} entries, "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Reads through the test client
# ---------------------------------------------------------------------------------------------


def timed(client, url: str, repeat: int, **headers) -> dict:
    times, status = [], None
    client.get(url, **headers)  # warm: templates, the query plan's statistics
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    times.sort()
    return {
        "status": status,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
        "n": repeat,
    }


def _biggest_agency():
    from django.db.models import Count

    from kompass.cases.models import Case

    return Case.objects.values("agency").annotate(n=Count("pk")).order_by("-n").first()["agency"]


def queue(repeat: int) -> list[dict]:
    from django.test import Client

    from kompass.cases import keyset
    from kompass.cases.models import Case
    from kompass.core.models import User

    agency = _biggest_agency()
    filters = f"agency={agency}&state=new&state=in_progress&state=waiting_vendor&priority=3&priority=4"
    matching = Case.objects.filter(
        agency=agency, state__in=["new", "in_progress", "waiting_vendor"], priority__in=[3, 4]
    )
    total = matching.count()
    row = matching.order_by(*keyset.ORDER).values("resolution_due", "pk")[499 * 50 - 1 : 499 * 50]
    client = Client()
    client.force_login(User.objects.get(email="desk@bench.example"))
    results = []
    first = timed(client, f"/cases/?{filters}", repeat)
    results.append({"measure": "queue page 1", "matching": total, **first})
    if row:
        cursor = keyset.encode(row[0]["resolution_due"], row[0]["pk"])
        deep = timed(client, f"/cases/?{filters}&cursor={cursor}", repeat)
        results.append({"measure": "queue page 500 (keyset cursor)", "matching": total, **deep})
        api = timed(client, f"/api/cases/?{filters}&offset={499 * 50}&limit=50", repeat)
        results.append({"measure": "API page 500 (offset)", "matching": total, **api})
    else:
        results.append({"measure": "queue page 500", "note": f"only {total} matching cases: no page 500"})
    results.append(
        {"measure": "queue page 1, htmx", **timed(client, f"/cases/?{filters}", repeat, HTTP_HX_REQUEST="true")}
    )
    results.append({"measure": "queue page 1, unfiltered", **timed(client, "/cases/", repeat)})
    return results


def search(repeat: int) -> list[dict]:
    from django.test import Client

    from kompass.cases import search as fts
    from kompass.cases.models import Case
    from kompass.core.models import User

    results = []
    rare = "sjeldenord4242"
    desk = User.objects.get(email="desk@bench.example")
    contact = User.objects.get(email="it@bench.example")
    for who in (desk, contact):
        client = Client()
        client.force_login(who)
        for query in (rare, "skriver", "skriver pålogging", f"notatord{4242}"):
            hits = fts.search(Case.objects.restrict(who, "view"), query, who).count()
            page = timed(client, f"/cases/?q={query}", repeat)
            results.append({"measure": f"search page '{query}' as {who.email.split('@')[0]}", "hits": hits, **page})
        page = timed(client, f"/api/cases/?q={rare}&state=new&state=in_progress", repeat)
        results.append({"measure": f"search API '{rare}' + state as {who.email.split('@')[0]}", **page})
    return results


# ---------------------------------------------------------------------------------------------
# Creation under gunicorn + wrk
# ---------------------------------------------------------------------------------------------

WRK_SCRIPT = """
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local body = os.getenv("BENCH_BODY")
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/cases/", {
    ["Authorization"] = "Token " .. tokens[(n % #tokens) + 1],
    ["Content-Type"] = "application/json",
    ["Host"] = "127.0.0.1"
  }, body)
end
done = function(summary, latency, requests)
  -- done() runs in wrk's main Lua state: per-thread tables are not visible here, errors.status is (>= 400).
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "socket_errors": %d, '
    .. '"status_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create(duration: int, connections: int, var_dir: Path) -> list[dict]:
    from kompass.cases.models import Case
    from kompass.core.models import ApiToken, RoleAssignment, Service, User
    from kompass.core.roles import Role

    if not shutil.which("wrk"):
        return [{"measure": "create", "note": "wrk is not installed (sudo apt-get install -y wrk)"}]
    agent, _ = User.objects.get_or_create(email="api-desk@bench.example", defaults={"full_name": "API Agent"})
    RoleAssignment.objects.get_or_create(user=agent, role=Role.SERVICE_DESK_AGENT)
    tokens = [ApiToken.issue(agent, f"bench {n}")[1] for n in range(64)]
    service = Service.objects.get(name="Benketjeneste")
    requester = User.objects.filter(email__startswith="ansatt", home_agency__isnull=False).first()
    body = json.dumps({"service": service.pk, "title": "Skriveren virker ikke (last)", "requester": requester.pk,
                       "description": "Opprettet av lastgeneratoren.", "impact": 2, "urgency": 2})  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="cases-bench-"))
    (work / "tokens.txt").write_text("\n".join(tokens) + "\n")
    (work / "create.lua").write_text(WRK_SCRIPT)
    port = _free_port()
    env = {**os.environ, "KOMPASS_ALLOWED_HOSTS": "127.0.0.1", "KOMPASS_DEBUG": "false",
           "KOMPASS_VAR_DIR": str(var_dir), "BENCH_TOKENS": str(work / "tokens.txt"), "BENCH_BODY": body}  # fmt: skip
    server = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "gunicorn"), "kompass.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--no-control-socket", "--graceful-timeout", "4", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    before = Case.objects.count()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)
        run = subprocess.run(  # noqa: S603
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(work / "create.lua"),
             f"http://127.0.0.1:{port}"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        return [
            {"measure": "create", "note": "wrk gave no summary", "stdout": run.stdout[-2000:], "stderr": run.stderr}
        ]
    summary = json.loads(line.removeprefix("WRKJSON "))
    created = Case.objects.count() - before
    ok = summary["requests"] - summary["status_errors"]
    return [
        {
            "measure": f"create POST /api/cases/ gunicorn 2 workers, wrk -c{connections}",
            "cases_per_s": round(ok / summary["seconds"], 1),
            "created_in_db": created,
            "non_2xx": summary["requests"] - ok,
            **summary,
        }
    ]


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--entries", type=float, default=5.0, help="conversation entries per case (mean)")
    parser.add_argument("--phases", default="seed,queue,search,create")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--duration", type=int, default=60, help="seconds of the create phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--var", default=str(ROOT / "var" / "bench-cases"), help="var dir (SQLite file, media)")
    parser.add_argument("--reuse", action="store_true", help="skip seeding when the database holds cases already")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    var_dir = Path(args.var)
    var_dir.mkdir(parents=True, exist_ok=True)
    setup_django(var_dir)
    phases = args.phases.split(",")
    machine = {
        "vendor": vendor(),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "python": platform.python_version(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps({"machine": machine}), flush=True)
    results = []

    from kompass.cases.models import Case

    if "seed" in phases and not (args.reuse and Case.objects.exists()):
        seeded = seed(args.cases, args.entries, random.Random(args.seed))
        results.append(
            {"measure": "seed", **{k: round(v, 1) if isinstance(v, float) else v for k, v in seeded.items()}}
        )
        print(json.dumps(results[-1]), flush=True)
    for name, run in (("queue", lambda: queue(args.repeat)), ("search", lambda: search(args.repeat)),
                      ("create", lambda: create(args.duration, args.connections, var_dir))):  # fmt: skip
        if name in phases:
            for result in run():
                results.append(result)
                print(json.dumps(result, default=str), flush=True)
    machine["load_avg_after"] = os.getloadavg()
    print(f"\n{machine['vendor']}, {machine['cpus']} cores, load {machine['load_avg']} → {machine['load_avg_after']}")
    print("| measure | p50 ms | p95 ms | max ms | other |\n| --- | --- | --- | --- | --- |")
    for r in results:
        other = {k: v for k, v in r.items() if k not in ("measure", "p50_ms", "p95_ms", "max_ms")}
        print(f"| {r['measure']} | {r.get('p50_ms', '')} | {r.get('p95_ms', '')} | {r.get('max_ms', '')} | {other} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
