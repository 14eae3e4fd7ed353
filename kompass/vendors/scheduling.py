"""The vendors app's scheduled jobs (``kompass scheduler`` imports this module). Each only enqueues a task."""

from datetime import timedelta

from kompass.core.scheduling import Every, scheduled
from kompass.vendors import conf


@scheduled(Every(timedelta(seconds=conf.poll_seconds())), name="vendors.poll")
def poll() -> None:
    """Ask every vendor for what changed since the watermark: the safety net under the webhooks."""
    from kompass.vendors.tasks import poll_vendors

    poll_vendors.enqueue()


@scheduled(Every(timedelta(minutes=conf.reconcile_minutes())), name="vendors.reconcile")
def reconcile() -> None:
    """Compare every open link with its vendor record; repair what is safe, list the rest as drift."""
    from kompass.vendors.tasks import run_reconciliation

    run_reconciliation.enqueue("schedule")


@scheduled(Every(timedelta(seconds=conf.alert_seconds())), name="vendors.alerts")
def alerts() -> None:
    """E-mail administrators once when a health threshold is crossed, and once when it has recovered."""
    from kompass.vendors.tasks import check_alerts

    check_alerts.enqueue()
