"""Background tasks of the core app."""

from django.utils import timezone
from django_tasks import task

from kompass.core.models import Heartbeat


@task()
def worker_heartbeat(sent_at: str) -> str:
    """Prove the task worker is alive: the scheduler enqueues this, the worker records that it ran."""
    Heartbeat.objects.update_or_create(name="worker", defaults={"seen": timezone.now(), "detail": f"sent {sent_at}"})
    return "ok"
