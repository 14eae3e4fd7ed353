"""Background tasks of the core app."""

from django.utils import timezone
from django_tasks import task

from kompass.core import durable
from kompass.core.models import Heartbeat


def heartbeat_name(queue: str) -> str:
    """The ``Heartbeat`` row of the worker serving ``queue`` (``worker`` for the default queue)."""
    return "worker" if queue == "default" else f"worker:{queue}"


@task()
def worker_heartbeat(sent_at: str, queue: str = "default") -> str:
    """Prove a queue's worker is alive: the scheduler enqueues this on every queue, the worker records it."""
    Heartbeat.objects.update_or_create(
        name=heartbeat_name(queue), defaults={"seen": timezone.now(), "detail": f"sent {sent_at}"}
    )
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
