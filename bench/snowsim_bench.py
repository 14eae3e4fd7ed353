"""Benchmark snowsim: 100,000 incidents in a file store, one HTTPS server process, concurrent httpx clients.

Phases (each bounded by --duration seconds and --max-requests):
  list    GET /api/now/table/incident?sysparm_query=<encoded query>&sysparm_limit=100
  read    GET /api/now/table/incident/<sys_id> (random sys_ids)
  update  PATCH /api/now/table/incident/<sys_id> {"impact": .., "urgency": ..}

Loopback only. Usage::

    .venv/bin/python bench/snowsim_bench.py                 # 100k incidents, 10 s per phase, 8 clients
    .venv/bin/python bench/snowsim_bench.py --records 20000 --duration 5 --concurrency 4 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from snowsim.store import Store  # noqa: E402
from snowsim.tls import client_verify  # noqa: E402

LIST_QUERY = "active=true^priority<=2^short_descriptionLIKEprinter^ORDERBYDESCsys_updated_on"
AUTH = ("admin", "admin")


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
            rows, _ = store.query("incident", "ORDERBYsys_id", limit=5000, count=False)
            store.close()
            return 0.0, [r["sys_id"] for r in rows]
        store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store(str(path), seed=seed)
    started = time.perf_counter()
    store.generate_incidents(records, seed=seed)
    seconds = time.perf_counter() - started
    rows, _ = store.query("incident", "ORDERBYsys_id", limit=5000, count=False)
    store.close()
    return seconds, [r["sys_id"] for r in rows]


def start_server(data: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "snowsim", "serve", "--data", str(data), "--port", str(port), "--seed", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    ca = data / "tls" / "ca.pem"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.communicate()}")
        if ca.exists():
            try:
                httpx.get(f"https://127.0.0.1:{port}/api/now/table/sys_user?sysparm_limit=1",
                          verify=client_verify(ca), auth=AUTH, timeout=5)
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


async def _drive(name: str, base: str, ca: str, concurrency: int, duration: float, max_requests: int,
                 sys_ids: list[str], seed: int) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    count = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, verify=client_verify(ca), auth=AUTH, limits=limits, timeout=60,
                                 headers={"Accept": "application/json"}) as client:
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


def phase(name: str, base: str, ca: str, args: argparse.Namespace, sys_ids: list[str], server_pid: int) -> dict:
    per_process = max(1, args.max_requests // args.processes)
    jobs = [(name, base, ca, args.concurrency, args.duration, per_process, sys_ids, i) for i in range(args.processes)]
    server_cpu0 = process_cpu(server_pid)
    started = time.perf_counter()
    if args.processes == 1:
        outcomes = [_client_process(*jobs[0])]
    else:
        with ProcessPoolExecutor(args.processes) as pool:
            outcomes = list(pool.map(_client_process, *zip(*jobs, strict=True)))
    wall = time.perf_counter() - started
    server_cpu = process_cpu(server_pid) - server_cpu0
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
        "wall_seconds": round(wall, 2),
    }


def run(args: argparse.Namespace, sys_ids: list[str], base: str, ca: str, server_pid: int) -> list[dict]:
    results = []
    for name in ("list", "read", "update"):
        if name not in args.phases:
            continue
        result = phase(name, base, ca, args, sys_ids, server_pid)
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--max-requests", type=int, default=50_000, help="cap per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent requests per client process")
    parser.add_argument("--processes", type=int, default=1, help="client processes")
    parser.add_argument("--phases", default="list,read,update")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", help="data directory (default: a temporary directory, removed afterwards)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--reuse", action="store_true", help="reuse --data if it already holds enough incidents")
    args = parser.parse_args()
    args.phases = set(args.phases.split(","))

    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="snowsim-bench-"))
    try:
        load_s, sys_ids = load(data, args.records, args.seed, args.reuse)
        print(f"loaded {args.records} incidents in {load_s:.1f} s" if load_s else "reused the store", flush=True)
        port = free_port()
        server = start_server(data, port)
        try:
            results = run(args, sys_ids, f"https://127.0.0.1:{port}", str(data / "tls" / "ca.pem"), server.pid)
        finally:
            server.terminate()
            server.communicate(timeout=30)
    finally:
        if not args.data:
            shutil.rmtree(data, ignore_errors=True)
    report = {"records": args.records, "load_seconds": round(load_s, 1), "concurrency": args.concurrency,
              "processes": args.processes, "machine": machine(), "loadavg_after": os.getloadavg(),
              "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
