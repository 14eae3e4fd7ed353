"""Benchmark snowsim: 100,000 incidents in a file store, one HTTPS server process, wrk (or httpx) clients.

Phases (each bounded by --duration seconds):
  list    GET /api/now/table/incident?sysparm_query=<encoded query>&sysparm_limit=100
  read    GET /api/now/table/incident/<sys_id> (random sys_ids)
  update  PATCH /api/now/table/incident/<sys_id> {"impact": .., "urgency": ..}

Load generators: ``--tool wrk`` (default; C, so the client is not the bottleneck on a small
machine; ``apt-get install wrk``) drives bench/wrk_snowsim.lua; ``--tool httpx`` uses concurrent
``httpx.AsyncClient`` workers (Python: costs more CPU per request than the server does).

Loopback only. Usage::

    .venv/bin/python bench/snowsim_bench.py                 # 100k incidents, wrk, 10 s per phase, 8 connections
    .venv/bin/python bench/snowsim_bench.py --stacks h11+asyncio,httptools+uvloop   # compare uvicorn stacks
    .venv/bin/python bench/snowsim_bench.py --tool httpx --records 20000 --duration 5 --concurrency 4 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from snowsim.store import Store  # noqa: E402
from snowsim.tls import client_verify  # noqa: E402

# Closed incidents are read-only (a real instance's ACLs): the read/update sample skips them.
SAMPLE_QUERY = "state!=7^ORDERBYsys_id"
LIST_QUERY = "active=true^priority<=2^short_descriptionLIKEprinter^ORDERBYDESCsys_updated_on"
LIST_PATH = "/api/now/table/incident?" + urlencode({"sysparm_query": LIST_QUERY, "sysparm_limit": "100"})
AUTH = ("admin", "admin")
WRK_SCRIPT = ROOT / "bench" / "wrk_snowsim.lua"
WRK_MISSING = """wrk is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y wrk; macOS: brew install wrk)
or use the Python load generator: --tool httpx (slower: on a small machine the client saturates first)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def load(data: Path, records: int, seed: int, reuse: bool = False) -> tuple[float, list[str]]:
    """Create the file store with ``records`` incidents; returns (seconds, a sample of sys_ids)."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / "snowsim.sqlite3"
    if reuse and path.exists():
        store = Store(str(path), seed=seed)
        if store.count("incident") >= records:
            rows, _ = store.query("incident", SAMPLE_QUERY, limit=5000, count=False)
            store.close()
            return 0.0, [r["sys_id"] for r in rows]
        store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store(str(path), seed=seed)
    started = time.perf_counter()
    store.generate_incidents(records, seed=seed)
    seconds = time.perf_counter() - started
    rows, _ = store.query("incident", SAMPLE_QUERY, limit=5000, count=False)
    store.close()
    return seconds, [r["sys_id"] for r in rows]


def start_server(data: Path, port: int, stack: str = "auto") -> subprocess.Popen:
    """``snowsim serve`` as its own process; ``stack`` is ``auto`` or ``<http>+<loop>`` (e.g. h11+asyncio)."""
    http, _, loop = stack.partition("+") if stack != "auto" else ("auto", "", "auto")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [
            sys.executable,
            "-m",
            "snowsim",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--seed",
            "1",
            "--http",
            http,
            "--loop",
            loop or "auto",
            # the generated data holds ~12,500 incidents resolved up to 90 days ago: the auto-close job
            # would close them in the background (500 per run) while the phases are measured
            "--autoclose-after",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ca = data / "tls" / "ca.pem"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.communicate()}")
        if ca.exists():
            try:
                httpx.get(
                    f"https://127.0.0.1:{port}/api/now/table/sys_user?sysparm_limit=1",
                    verify=client_verify(ca),
                    auth=AUTH,
                    timeout=5,
                )
                return proc
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def make_request(name: str, rng: random.Random, sys_ids: list[str]) -> tuple[str, str, dict]:
    if name == "list":
        return "GET", "/api/now/table/incident", {"params": {"sysparm_query": LIST_QUERY, "sysparm_limit": "100"}}
    if name == "read":
        return "GET", f"/api/now/table/incident/{rng.choice(sys_ids)}", {}
    body = {"impact": rng.choice("123"), "urgency": rng.choice("123")}
    return "PATCH", f"/api/now/table/incident/{rng.choice(sys_ids)}", {"json": body}


async def _drive(
    name: str, base: str, ca: str, concurrency: int, duration: float, max_requests: int, sys_ids: list[str], seed: int
) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    count = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base,
        verify=client_verify(ca),
        auth=AUTH,
        limits=limits,
        timeout=60,
        headers={"Accept": "application/json"},
    ) as client:
        # warm up: TLS handshakes and the server's auth cache
        await asyncio.gather(*(client.get("/api/now/table/sys_user?sysparm_limit=1") for _ in range(concurrency)))
        stop_at = time.perf_counter() + duration

        async def worker(rng: random.Random) -> None:
            nonlocal count
            while time.perf_counter() < stop_at and count < max_requests:
                count += 1
                method, url, kwargs = make_request(name, rng, sys_ids)
                t0 = time.perf_counter()
                response = await client.request(method, url, **kwargs)
                latencies.append(time.perf_counter() - t0)
                if response.status_code >= 400:
                    errors[response.status_code] = errors.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(random.Random(seed * 1000 + i)) for i in range(concurrency)))
        return latencies, errors, time.perf_counter() - started


def _client_process(*args) -> tuple[list[float], dict[int, int], float, float]:
    cpu0 = time.process_time()
    latencies, errors, elapsed = asyncio.run(_drive(*args))
    return latencies, errors, elapsed, time.process_time() - cpu0


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_phase(name: str, base: str, ids_file: Path, args: argparse.Namespace, server_pid: int) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit(WRK_MISSING)
    cmd = [
        wrk,
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{max(1, round(args.duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        base,
        "--",
        name,
        str(ids_file),
        LIST_PATH,
    ]
    server_cpu0, client_cpu0, (busy0, total0) = process_cpu(server_pid), children_cpu(), machine_busy()
    load0 = os.getloadavg()[0]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 120, check=False)  # noqa: S603
    server_cpu, client_cpu = process_cpu(server_pid) - server_cpu0, children_cpu() - client_cpu0
    busy1, total1 = machine_busy()
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    out = json.loads(line.removeprefix("WRK_JSON "))
    n, seconds, lat = out["requests"], out["duration_us"] / 1e6, out["latency_us"]
    errors = {k: v for k, v in out["errors"].items() if v}
    return {
        "phase": name,
        "requests": n,
        "seconds": round(seconds, 2),
        "per_second": round(n / seconds, 1) if seconds else 0,
        "p50_ms": round(lat["p50"] / 1000, 1),
        "p95_ms": round(lat["p95"] / 1000, 1),
        "p99_ms": round(lat["p99"] / 1000, 1),
        "mean_ms": round(lat["mean"] / 1000, 1),
        "errors": errors,
        "server_cpu_ms_per_request": round(server_cpu * 1000 / n, 3) if n else None,
        "server_capacity_per_core": round(n / server_cpu, 0) if server_cpu else None,
        "client_cpu_ms_per_request": round(client_cpu * 1000 / n, 3) if n else None,
        # how busy the whole machine was (all cores, everything running), and what was not ours
        "machine_busy_pct": round(100 * (busy1 - busy0) / (total1 - total0), 1) if total1 > total0 else None,
        "other_cpu_cores": round(((busy1 - busy0) / os.sysconf("SC_CLK_TCK") - server_cpu - client_cpu) / seconds, 2)
        if seconds
        else None,
        "loadavg_1m_before": round(load0, 2),
        "wall_seconds": round(seconds, 2),
    }


def phase(name: str, base: str, ca: str, args: argparse.Namespace, sys_ids: list[str], server_pid: int) -> dict:
    per_process = max(1, args.max_requests // args.processes)
    jobs = [(name, base, ca, args.concurrency, args.duration, per_process, sys_ids, i) for i in range(args.processes)]
    server_cpu0, (busy0, total0), load0 = process_cpu(server_pid), machine_busy(), os.getloadavg()[0]
    started = time.perf_counter()
    if args.processes == 1:
        outcomes = [_client_process(*jobs[0])]
    else:
        with ProcessPoolExecutor(args.processes) as pool:
            outcomes = list(pool.map(_client_process, *zip(*jobs, strict=True)))
    wall = time.perf_counter() - started
    server_cpu = process_cpu(server_pid) - server_cpu0
    busy1, total1 = machine_busy()
    latencies = [v * 1000 for outcome in outcomes for v in outcome[0]]
    errors: dict[int, int] = {}
    for outcome in outcomes:
        for code, n in outcome[1].items():
            errors[code] = errors.get(code, 0) + n
    elapsed = max(outcome[2] for outcome in outcomes)
    client_cpu = sum(outcome[3] for outcome in outcomes)
    n = len(latencies)
    return {
        "phase": name,
        "requests": n,
        "seconds": round(elapsed, 2),
        "per_second": round(n / elapsed, 1) if elapsed else 0,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "errors": errors,
        # CPU accounting: what one request costs the server, and the rate one fully used core would give
        "server_cpu_ms_per_request": round(server_cpu * 1000 / n, 3) if n else None,
        "server_capacity_per_core": round(n / server_cpu, 0) if server_cpu else None,
        "client_cpu_ms_per_request": round(client_cpu * 1000 / n, 3) if n else None,
        "machine_busy_pct": round(100 * (busy1 - busy0) / (total1 - total0), 1) if total1 > total0 else None,
        "other_cpu_cores": round(((busy1 - busy0) / os.sysconf("SC_CLK_TCK") - server_cpu - client_cpu) / wall, 2)
        if wall
        else None,
        "loadavg_1m_before": round(load0, 2),
        "wall_seconds": round(wall, 2),
    }


def run(args: argparse.Namespace, sys_ids: list[str], data: Path, stack: str) -> list[dict]:
    """Start ``snowsim serve`` with ``stack``, run the phases against it, stop it."""
    ids_file = data / "bench-sys-ids.txt"
    ids_file.write_text("\n".join(sys_ids) + "\n")
    port = free_port()
    server = start_server(data, port, stack)
    base, ca = f"https://127.0.0.1:{port}", str(data / "tls" / "ca.pem")
    results = []
    try:
        for name in ("list", "read", "update"):
            if name not in args.phases:
                continue
            if args.tool == "wrk":
                result = wrk_phase(name, base, ids_file, args, server.pid)
            else:
                result = phase(name, base, ca, args, sys_ids, server.pid)
            result["stack"] = stack if stack != "auto" else f"auto ({resolved_stack()})"
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    return results


def resolved_stack() -> str:
    """What uvicorn's ``auto`` picks here: httptools/uvloop when importable, else h11/asyncio."""
    from importlib.util import find_spec

    return f"{'httptools' if find_spec('httptools') else 'h11'}+{'uvloop' if find_spec('uvloop') else 'asyncio'}"


def table(results: list[dict]) -> str:
    head = (
        "stack",
        "phase",
        "requests",
        "rate /s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "server CPU ms/req",
        "capacity /core",
        "client CPU ms/req",
        "machine busy %",
        "other cores",
    )
    rows = [head, tuple("---" for _ in head)]
    for r in results:
        rows.append(
            (
                r["stack"],
                r["phase"],
                f"{r['requests']:,}",
                f"{r['per_second']:,.0f}",
                r["p50_ms"],
                r["p95_ms"],
                r.get("p99_ms", ""),
                sum(r["errors"].values()) or 0,
                r["server_cpu_ms_per_request"],
                f"{r['server_capacity_per_core'] or 0:,.0f}",
                r["client_cpu_ms_per_request"],
                r["machine_busy_pct"],
                r["other_cpu_cores"],
            )
        )
    return "\n".join("| " + " | ".join(str(c) for c in row) + " |" for row in rows)


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    for package in ("uvicorn", "starlette", "httptools", "uvloop", "httpx"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = None
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
        info["wrk"] = (out.stdout or out.stderr).split(" [", 1)[0].strip()
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=("wrk", "httpx"), default="wrk", help="load generator [wrk]")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=8, help="wrk: open connections [8]")
    parser.add_argument("--threads", type=int, default=1, help="wrk: threads [1]")
    parser.add_argument("--max-requests", type=int, default=50_000, help="httpx: cap per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="httpx: concurrent requests per client process")
    parser.add_argument("--processes", type=int, default=1, help="httpx: client processes")
    parser.add_argument("--phases", default="list,read,update")
    parser.add_argument(
        "--stacks",
        default="auto",
        help="comma list of uvicorn stacks to run in turn: auto, h11+asyncio, httptools+uvloop, ... "
        "[auto: httptools and uvloop when installed]",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", help="data directory (default: a temporary directory, removed afterwards)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--reuse", action="store_true", help="reuse --data if it already holds enough incidents")
    args = parser.parse_args()
    args.phases = set(args.phases.split(","))
    if args.tool == "wrk" and not shutil.which("wrk"):
        print(WRK_MISSING, file=sys.stderr)
        return 2

    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="snowsim-bench-"))
    loadavg_before = os.getloadavg()
    results: list[dict] = []
    try:
        load_s, sys_ids = load(data, args.records, args.seed, args.reuse)
        print(f"loaded {args.records} incidents in {load_s:.1f} s" if load_s else "reused the store", flush=True)
        for stack in args.stacks.split(","):
            results += run(args, sys_ids, data, stack.strip())
    finally:
        if not args.data:
            shutil.rmtree(data, ignore_errors=True)
    report = {
        "records": args.records,
        "load_seconds": round(load_s, 1),
        "tool": args.tool,
        "connections": args.connections if args.tool == "wrk" else args.concurrency * args.processes,
        "machine": machine(),
        "loadavg_before": loadavg_before,
        "loadavg_after": os.getloadavg(),
        "results": results,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "results"}))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
