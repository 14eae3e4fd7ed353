"""Periodic jobs, run by the one ``kompass scheduler`` process.

Each job is a function that runs quickly in the scheduler itself, typically enqueueing a task for
the worker. Apps add their jobs with ``@periodic(seconds=...)`` in their ``scheduling.py``;
``kompass scheduler`` imports every installed app's ``scheduling`` module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    seconds: float
    func: Callable[[], object]
    next_run: float = field(default=0.0)


JOBS: dict[str, PeriodicJob] = {}


def periodic(seconds: float, name: str | None = None):
    """Register ``func`` to run every ``seconds`` seconds in the scheduler."""

    def decorator(func):
        job_name = name or f"{func.__module__}.{func.__qualname__}"
        JOBS[job_name] = PeriodicJob(job_name, seconds, func)
        return func

    return decorator


def run_due(now: float) -> list[str]:
    """Run every job whose time has come; return their names. A failing job is logged, not fatal."""
    ran = []
    for job in JOBS.values():
        if now >= job.next_run:
            job.next_run = now + job.seconds
            try:
                job.func()
                ran.append(job.name)
            except Exception:
                logger.exception("Periodic job %s failed", job.name)
    return ran


@periodic(seconds=settings.KOMPASS_HEARTBEAT_INTERVAL, name="core.heartbeat")
def heartbeat() -> None:
    """Record the scheduler's own heartbeat and ask the worker to prove it is alive."""
    from kompass.core.models import Heartbeat
    from kompass.core.tasks import worker_heartbeat

    now = timezone.now()
    Heartbeat.objects.update_or_create(name="scheduler", defaults={"seen": now, "detail": ""})
    worker_heartbeat.enqueue(now.isoformat())
