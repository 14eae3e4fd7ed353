"""Vendor connection services, called by views, the API and (later) the sync jobs."""

from django.utils import timezone

from kompass.vendors.models import VendorConnection
from kompass.vendors.transports import transport_for


def check_connection(connection: VendorConnection):
    """Try the connection end to end and record the result on it."""
    transport = transport_for(connection)
    try:
        result = transport.check()
    finally:
        transport.close()
    VendorConnection.objects.filter(pk=connection.pk).update(
        last_checked=timezone.now(), last_check_ok=result.ok, last_check_detail=result.detail[:500]
    )
    connection.refresh_from_db()
    return result


def ebonding_figures(start, end) -> dict:
    """E-bonding health over ``[start, end)`` for the monthly service report: ``sent`` and ``received``
    (updates delivered each way), ``failed`` (given up: dead letters, refused by the vendor), ``drift_repaired``
    (fields reconciliation repaired), ``reconciliation_runs`` and ``requesters_not_informed`` (vendor resolutions
    now with no notification sent to the requester)."""
    from django.db.models import Q, Sum

    from kompass.vendors.health import requesters_not_informed
    from kompass.vendors.models import InboxEvent, OutboxMessage, ReconciliationRun

    done = OutboxMessage.State.DONE
    outbox = OutboxMessage.objects.filter(created__gte=start, created__lt=end)
    inbox = InboxEvent.objects.filter(created__gte=start, created__lt=end)
    runs = ReconciliationRun.objects.filter(started__gte=start, started__lt=end)
    return {
        "sent": outbox.filter(state=done, refused=False).count(),
        "received": inbox.filter(state=done).count(),
        "failed": outbox.filter(Q(state=OutboxMessage.State.DEAD) | Q(refused=True)).count()
        + inbox.filter(state=InboxEvent.State.DEAD).count(),
        "drift_repaired": runs.aggregate(n=Sum("repaired"))["n"] or 0,
        "reconciliation_runs": runs.count(),
        "requesters_not_informed": len(requesters_not_informed()),
    }
