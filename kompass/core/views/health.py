"""``/healthz``: is the database reachable, and are the worker and scheduler alive?"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kompass import __version__
from kompass.core.models import Heartbeat


@never_cache
@require_GET
def healthz(request):
    """200 with component status when the database answers; 503 when it does not.

    A stale worker or scheduler heartbeat is reported (``"status": "stale"``) without failing the
    check, so a load balancer keeps serving pages while an operator restarts the worker.
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
    beats = {beat.name: beat for beat in Heartbeat.objects.filter(name__in=["worker", "scheduler"])}
    for name in ("worker", "scheduler"):
        beat = beats.get(name)
        if beat is None:
            body[name] = {"status": "unknown", "last_seen": None}
        else:
            age = (now - beat.seen).total_seconds()
            body[name] = {
                "status": "ok" if now - beat.seen <= max_age else "stale",
                "last_seen": beat.seen.isoformat(),
                "age_seconds": round(age, 1),
            }
    return JsonResponse(body, status=200)
