"""Scheduled jobs on the wall clock, run by ``kompass scheduler``.

An app declares its jobs in its ``scheduling.py`` (``kompass scheduler`` imports that module of every
installed app)::

    from datetime import time, timedelta
    from kompass.core.scheduling import Every, FirstWorkingDayOfMonth, scheduled

    @scheduled("*/5 * * * *")                           # cron, in settings.TIME_ZONE (Europe/Oslo)
    def poll_vendor(): ...

    @scheduled(FirstWorkingDayOfMonth(time(7, 0)), name="reports.monthly")
    def monthly_report(): send_monthly_report.enqueue()

    @scheduled(Every(timedelta(minutes=1)))             # a fixed interval of real time
    def drain(): ...

Rules (``ScheduledJob`` rows in the database carry them across restarts):

- **Wall clock.** ``Cron`` and ``FirstWorkingDayOfMonth`` are evaluated in ``settings.TIME_ZONE``. Cron uses
  cronsim, which follows Debian cron around daylight saving time: a job in the hour that spring skips runs
  once right after the jump (``30 2 * * *`` runs at 03:00 that night), a fixed-time job in the hour that
  autumn repeats runs once, and a job with a wildcard hour (``*/5 * * * *``) keeps firing in real time
  through both copies of the hour. ``Every`` counts real time and ignores the clock.
- **Restart.** Each job's ``next_run_at`` is stored. A restart right after a run does not run it again; a
  job whose ``next_run_at`` passed while no scheduler ran is **caught up once** (not once per missed slot),
  and then planned from now. A new ``Every`` job runs at once; a new calendar job waits for its first slot.
- **At most once per slot.** Before a job runs, its row's ``next_run_at`` is moved to the following slot
  by a conditional UPDATE (only the process that sees the old value wins). A scheduler killed mid-job does
  not repeat that slot: the row keeps ``last_status="running"``, visible in ``/healthz``. So a job should do
  little more than enqueue a task or durable rows (``kompass.core.durable``), which give at-least-once.
- **One active scheduler.** The scheduler only runs jobs while it holds the ``SchedulerLease`` row
  (``acquire_lease``); a second ``kompass scheduler`` stands by and takes over when the lease expires
  (``KOMPASS_SCHEDULER_LEASE_SECONDS``) or is released on a clean stop.
"""

from __future__ import annotations

import logging
import time as monotonic_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays
from cronsim import CronSim, CronSimError
from django.conf import settings
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

logger = logging.getLogger(__name__)

__all__ = [
    "JOBS",
    "Cron",
    "Every",
    "FirstWorkingDayOfMonth",
    "Job",
    "Schedule",
    "acquire_lease",
    "periodic",
    "release_lease",
    "run_due",
    "scheduled",
]

LEASE_NAME = "scheduler"


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------
class Schedule(Protocol):
    """When a job runs: the first moment strictly after a given one. Moments are aware datetimes."""

    def next_after(self, moment: datetime) -> datetime: ...

    def first_run(self, now: datetime) -> datetime:
        """When a job that has never run should run first."""
        ...


@dataclass(frozen=True)
class Every:
    """Every ``interval`` of real time (daylight saving time makes no difference). Runs at once when new."""

    interval: timedelta

    def __post_init__(self):
        if self.interval <= timedelta(0):
            raise ValueError("Every() needs a positive interval.")

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.interval

    def first_run(self, now: datetime) -> datetime:
        return now

    def __str__(self) -> str:
        return f"every {self.interval.total_seconds():g}s"


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression on the wall clock of ``settings.TIME_ZONE`` (evaluated by cronsim)."""

    expression: str

    def __post_init__(self):
        try:
            CronSim(self.expression, datetime(2000, 1, 1, tzinfo=UTC))
        except CronSimError as exc:
            raise ValueError(f"Invalid cron expression {self.expression!r}: {exc}") from exc

    def next_after(self, moment: datetime) -> datetime:
        utc_moment = moment.astimezone(UTC)
        # cronsim starting inside the repeated autumn hour (fold=1) can answer a time in the first copy of
        # that hour, which is in the past: skip anything not strictly after the moment, compared in UTC.
        for candidate in CronSim(self.expression, moment.astimezone(_zone())):
            if candidate.astimezone(UTC) > utc_moment:
                return candidate
        raise ValueError(f"Cron expression {self.expression!r} never fires.")  # pragma: no cover

    def first_run(self, now: datetime) -> datetime:
        return self.next_after(now)

    def __str__(self) -> str:
        return f"cron {self.expression} ({settings.TIME_ZONE})"


@cache
def _norwegian_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Norway(years=year))


def first_working_day(year: int, month: int) -> date:
    """The first weekday of the month that is not a Norwegian public holiday (1 January is, for one)."""
    day = date(year, month, 1)
    while day.weekday() >= 5 or day in _norwegian_holidays(year):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class FirstWorkingDayOfMonth:
    """At ``at`` (wall clock) on the first working day of every month: not a weekend or public holiday."""

    at: time = time(7, 0)

    def next_after(self, moment: datetime) -> datetime:
        local = moment.astimezone(_zone())
        year, month = local.year, local.month
        while True:
            slot = datetime.combine(first_working_day(year, month), self.at, tzinfo=_zone())
            if slot.astimezone(UTC) > moment.astimezone(UTC):
                return slot
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def first_run(self, now: datetime) -> datetime:
        return self.next_after(now)

    def __str__(self) -> str:
        return f"first working day of the month at {self.at:%H:%M} ({settings.TIME_ZONE})"


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------
@dataclass
class Job:
    name: str
    schedule: Schedule
    func: Callable[[], object]


JOBS: dict[str, Job] = {}


def scheduled(schedule: Schedule | str, *, name: str | None = None):
    """Register ``func`` as a job on ``schedule`` (a ``Schedule``, or a cron expression string)."""
    if isinstance(schedule, str):
        schedule = Cron(schedule)

    def decorator(func):
        job_name = name or f"{func.__module__}.{func.__qualname__}"
        JOBS[job_name] = Job(job_name, schedule, func)
        return func

    return decorator


def periodic(seconds: float, name: str | None = None):
    """Register ``func`` to run every ``seconds`` seconds: ``scheduled(Every(...))``."""
    return scheduled(Every(timedelta(seconds=seconds)), name=name)


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------
def _plan(now: datetime) -> dict:
    """Return every registered job's row, creating missing ones and re-planning changed schedules."""
    from kompass.core.models import ScheduledJob

    rows = {row.name: row for row in ScheduledJob.objects.filter(name__in=JOBS)}
    for job in JOBS.values():
        row = rows.get(job.name)
        if row is None:
            rows[job.name], _ = ScheduledJob.objects.get_or_create(
                name=job.name, defaults={"schedule": str(job.schedule), "next_run_at": job.schedule.first_run(now)}
            )
        elif row.schedule != str(job.schedule):
            # The code's schedule changed (or KOMPASS_HEARTBEAT_INTERVAL did): plan from the new one.
            row.schedule, row.next_run_at = str(job.schedule), job.schedule.first_run(now)
            row.save(update_fields=["schedule", "next_run_at"])
    return rows


def run_due(now: datetime | None = None) -> list[str]:
    """Run every job whose ``next_run_at`` has come, once each; return their names.

    Call it only while holding the lease. A failing job is logged and recorded, never fatal.
    """
    from kompass.core.models import ScheduledJob

    now = now or timezone.now()
    ran = []
    rows = _plan(now)
    for name, job in list(JOBS.items()):  # in registration order
        row = rows[name]
        if row.next_run_at > now:
            continue
        # Claim the slot first (at most once per slot): only one process moves next_run_at on from this value.
        claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
            next_run_at=job.schedule.next_after(now), last_started_at=now, last_status=ScheduledJob.Status.RUNNING
        )
        if not claimed:
            continue
        started = monotonic_time.monotonic()
        status, error = ScheduledJob.Status.OK, ""
        try:
            job.func()
        except Exception as exc:
            logger.exception("Scheduled job %s failed", name)
            status, error = ScheduledJob.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        ScheduledJob.objects.filter(pk=row.pk).update(
            last_run_at=timezone.now(),
            last_status=status,
            last_error=error,
            last_duration=timedelta(seconds=monotonic_time.monotonic() - started),
        )
        ran.append(name)
    return ran


def acquire_lease(holder: str, *, seconds: float, now: datetime | None = None) -> bool:
    """Take or renew the scheduler lease for ``seconds``; True if ``holder`` has it now.

    One conditional UPDATE (``WHERE holder = me OR expires_at <= now``) decides, so it is safe on SQLite and
    PostgreSQL alike without row locks.
    """
    from kompass.core.models import SchedulerLease

    now = now or timezone.now()
    SchedulerLease.objects.get_or_create(name=LEASE_NAME, defaults={"expires_at": now})
    taken = (
        SchedulerLease.objects.filter(name=LEASE_NAME)
        .filter(Q(holder=holder) | Q(expires_at__lte=now))
        .update(
            expires_at=now + timedelta(seconds=seconds),
            acquired_at=Case(When(holder=holder, then=F("acquired_at")), default=Value(now)),
            holder=holder,
        )
    )
    return taken == 1


def release_lease(holder: str) -> None:
    """Give the lease up (on a clean stop), so a standby scheduler takes over at its next tick."""
    from kompass.core.models import SchedulerLease

    SchedulerLease.objects.filter(name=LEASE_NAME, holder=holder).update(expires_at=timezone.now())


def current_lease():
    from kompass.core.models import SchedulerLease

    return SchedulerLease.objects.filter(name=LEASE_NAME).first()


# ---------------------------------------------------------------------------------------------
# Core's own jobs
# ---------------------------------------------------------------------------------------------
@periodic(seconds=settings.KOMPASS_HEARTBEAT_INTERVAL, name="core.heartbeat")
def heartbeat() -> None:
    """Record the scheduler's own heartbeat and ask each queue's worker to prove it is alive."""
    from kompass.core.models import Heartbeat
    from kompass.core.tasks import worker_heartbeat

    now = timezone.now()
    Heartbeat.objects.update_or_create(name="scheduler", defaults={"seen": now, "detail": ""})
    for queue in settings.TASK_QUEUES:
        worker_heartbeat.using(queue_name=queue).enqueue(now.isoformat(), queue)


@periodic(seconds=settings.KOMPASS_DURABLE_DRAIN_INTERVAL, name="core.durable_drain")
def durable_drain() -> None:
    """Enqueue processing of every durable model with due rows (retries after back-off, lost workers' rows)."""
    from kompass.core import durable

    durable.drain()
