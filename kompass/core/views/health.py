"""``/healthz``: is the database reachable, are the workers and scheduler alive, and when do jobs run?"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kompass import __version__
from kompass.core import health as app_health
from kompass.core.models import Heartbeat, ScheduledJob, SchedulerLease
from kompass.core.scheduling import LEASE_NAME
from kompass.core.tasks import heartbeat_name


@never_cache
@require_GET
def healthz(request):
    """200 with component status when the database answers; 503 when it does not.

    A stale worker or scheduler heartbeat is reported (``"status": "stale"``) without failing the
    check, so a load balancer keeps serving pages while an operator restarts the worker. ``apps`` holds each
    app's registered summary (``kompass.core.health``); one whose status is ``failing`` makes the answer 503
    with ``"status": "failing"`` and ``failing`` naming it.
    """
    body = {"status": "ok", "version": __version__, "database": {"status": "ok", "vendor": connection.vendor}}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        body["status"] = "error"
        body["database"] = {"status": "unreachable", "vendor": connection.vendor}
        return JsonResponse(body, status=503)

    max_age = timedelta(seconds=settings.KOMPASS_HEARTBEAT_INTERVAL * 3)
    now = timezone.now()
    queue_beats = {queue: heartbeat_name(queue) for queue in settings.TASK_QUEUES}
    beats = {beat.name: beat for beat in Heartbeat.objects.filter(name__in=["scheduler", *queue_beats.values()])}

    def beat_status(name: str) -> dict:
        beat = beats.get(name)
        if beat is None:
            return {"status": "unknown", "last_seen": None}
        return {
            "status": "ok" if now - beat.seen <= max_age else "stale",
            "last_seen": beat.seen.isoformat(),
            "age_seconds": round((now - beat.seen).total_seconds(), 1),
        }

    body["worker"] = beat_status(heartbeat_name("default"))
    body["workers"] = {queue: beat_status(name) for queue, name in queue_beats.items()}
    body["scheduler"] = beat_status("scheduler")
    lease = SchedulerLease.objects.filter(name=LEASE_NAME).first()
    body["scheduler"]["lease"] = {
        "holder": lease.holder if lease and lease.expires_at > now else None,
        "expires_at": lease.expires_at.isoformat() if lease and lease.expires_at > now else None,
    }
    # No error texts here: /healthz needs no log-in. They are in the ScheduledJob rows (admin, database).
    body["jobs"] = [
        {
            "name": job.name,
            "schedule": job.schedule,
            "last_status": job.last_status,
            "last_run": _iso(job.last_run_at),
            "next_run": _iso(job.next_run_at),
            "last_duration_seconds": round(job.last_duration.total_seconds(), 3) if job.last_duration else None,
        }
        for job in ScheduledJob.objects.order_by("name")
    ]
    # The apps' own summaries (kompass.core.health: each app registers from its health.py); one failing fails.
    body["apps"] = app_health.summaries()
    failing = sorted(name for name, result in body["apps"].items() if result.get("status") == app_health.FAILING)
    if failing:
        body["status"] = "failing"
        body["failing"] = failing
        return JsonResponse(body, status=503)
    return JsonResponse(body, status=200)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
