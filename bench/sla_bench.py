"""Benchmark of the SLA engine: 10,000 due dates and 10,000 elapsed computations.

    .venv/bin/python bench/sla_bench.py [--n 10000] [--seed 1] [--repeat 5] [--json out.json]

Workload: random starts across 2026–2028 (to the second, so some fall in closed hours, holidays and
DST nights), mixed priorities 1–4 of the default profile (P1/P2 on 24×7, P3/P4 in Oslo office hours),
response and resolution targets (minutes to 10 working days), plus a third of them on office hours
with the reduced-day preset. Each round uses **fresh calendars** (empty day caches), so the figures
include laying out the days; the holiday tables are built once per process (cached per year), and
that first build is timed separately; "warm" rows reuse one set of calendars, as a running server
does. Elapsed computations span 0–30 days. Also times clocks as the cases app uses them: start,
pause, resume and a priority change (possibly to another calendar), then one status.

Prints the best and median of ``--repeat`` rounds. No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kompass.cases.sla import (  # noqa: E402
    DEFAULT_PROFILE,
    OSLO_OFFICE_HOURS,
    TWENTY_FOUR_SEVEN,
    Clock,
    ClockKind,
    SlaProfile,
    SlaTarget,
    norwegian_holidays,
    oslo_reduced_days,
)

LOW = datetime(2026, 1, 1, tzinfo=UTC)
SECONDS = int((datetime(2029, 1, 1, tzinfo=UTC) - LOW).total_seconds())


def fresh_profiles() -> list[SlaProfile]:
    """The default profile and a reduced-days variant, on calendars with empty caches."""
    office, always = OSLO_OFFICE_HOURS.replace(), TWENTY_FOUR_SEVEN.replace()
    reduced = OSLO_OFFICE_HOURS.replace(name="reduced", reduced_day_rules=(oslo_reduced_days,))

    def on(cal_low, cal_high, name):
        targets = {
            p: SlaTarget(t.response, t.resolution, cal_low if p <= 2 else cal_high)
            for p, t in DEFAULT_PROFILE.targets.items()
        }
        return SlaProfile(name, targets)

    return [on(always, office, "default"), on(always, office, "default"), on(always, reduced, "reduced")]


def workload(n: int, rng: random.Random) -> list[tuple[int, int, ClockKind, datetime, timedelta]]:
    return [
        (
            rng.randrange(3),
            rng.randint(1, 4),
            rng.choice(list(ClockKind)),
            LOW + timedelta(seconds=rng.randrange(SECONDS)),
            timedelta(seconds=rng.randrange(30 * 86_400)),
        )
        for _ in range(n)
    ]


def due_dates(items, profiles=None) -> float:
    profiles = profiles or fresh_profiles()
    t0 = time.perf_counter()
    for which, priority, kind, start, _ in items:
        target = profiles[which].target(priority)
        cal = target.calendar
        cal.add_business_time(start, target.duration(kind).resolve(cal, start))
    return time.perf_counter() - t0


def elapsed(items, profiles=None) -> float:
    profiles = profiles or fresh_profiles()
    t0 = time.perf_counter()
    for which, priority, _, start, span in items:
        profiles[which].target(priority).calendar.business_time_between(start, start + span)
    return time.perf_counter() - t0


def clock_statuses(items) -> float:
    profiles = fresh_profiles()
    t0 = time.perf_counter()
    for which, priority, kind, start, span in items:
        clock = Clock(kind, profiles[which]).start(start, priority)
        clock = clock.pause(start + span / 4).resume(start + span / 2).priority_change(start + span / 2, 5 - priority)
        clock.status(start + span)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    t0 = time.perf_counter()
    for year in (2026, 2027, 2028, 2029):
        norwegian_holidays(year)
    holiday_tables = time.perf_counter() - t0

    items = workload(args.n, random.Random(args.seed))
    warm = fresh_profiles()  # reused across rounds: caches filled, as in a running server
    results = {}
    for name, func in (
        ("due dates", due_dates),
        ("elapsed", elapsed),
        ("due dates, warm caches", lambda i: due_dates(i, warm)),
        ("elapsed, warm caches", lambda i: elapsed(i, warm)),
        ("clocks (4 events + status)", clock_statuses),
    ):
        runs = [func(items) for _ in range(args.repeat)]
        results[name] = {"best_s": min(runs), "median_s": statistics.median(runs)}

    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"Python {platform.python_version()}, {args.n:,} items, seed {args.seed}, best/median of {args.repeat}")
    print(f"holiday tables 2026–2029 (first build, once per process): {holiday_tables * 1000:.0f} ms")
    print("| computation | best | median | per item |")
    print("| --- | --- | --- | --- |")
    for name, r in results.items():
        best, median, each = r["best_s"] * 1000, r["median_s"] * 1000, r["best_s"] / args.n * 1e6
        print(f"| {args.n:,} {name} | {best:.0f} ms | {median:.0f} ms | {each:.1f} µs |")
    print(f"load average after: {' '.join(load)}")
    if args.json:
        args.json.write_text(json.dumps({"n": args.n, "holiday_tables_s": holiday_tables, **results, "load": load}))


if __name__ == "__main__":
    main()
