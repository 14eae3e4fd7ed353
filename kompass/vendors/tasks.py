"""Background tasks of the vendors app (queue ``vendors``), enqueued by its scheduled jobs and pages."""

from django_tasks import task

from kompass.vendors import alerts, reconcile, sync
from kompass.vendors.models import VendorConnection


@task(queue_name="vendors")
def poll_vendors() -> int:
    """Poll every active connection that has links; returns how many inbox events were queued."""
    queued = 0
    for connection in VendorConnection.objects.filter(active=True, links__isnull=False).distinct():
        try:
            queued += sync.poll(connection)
        except sync.TransportError as exc:  # the next run tries again from the same watermark
            VendorConnection.objects.filter(pk=connection.pk).update(last_check_detail=f"Poll failed: {exc}"[:500])
    return queued


@task(queue_name="vendors")
def run_reconciliation(trigger: str = "schedule") -> str:
    return reconcile.reconcile(trigger=trigger).summary


@task(queue_name="vendors")
def check_alerts() -> dict:
    return alerts.check()
