"""Background tasks of the core app."""

from django.utils import timezone
from django_tasks import task

from kompass.core import durable
from kompass.core.models import Heartbeat


@task()
def worker_heartbeat(sent_at: str) -> str:
    """Prove the task worker is alive: the scheduler enqueues this, the worker records that it ran."""
    Heartbeat.objects.update_or_create(name="worker", defaults={"seen": timezone.now(), "detail": f"sent {sent_at}"})
    return "ok"


@task()
def process_durable(label: str) -> dict[str, int]:
    """Process due rows of the durable model ``label`` (``app_label.model``) for up to 30 seconds.

    Enqueued on the processor's own queue by ``durable.drain()`` (the scheduler) and ``durable.kick()``.
    """
    durable.autodiscover()
    entry = durable.PROCESSORS[label]
    result = entry.run(f"task:{durable.worker_id()}")
    return {"done": result.done, "failed": result.failed, "lost": result.lost}
