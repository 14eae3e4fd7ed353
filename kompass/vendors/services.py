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


def vendor_resolution_moments(case_ids) -> dict:
    """``{case_id: moment}`` by the vendor's own clock (aware UTC, ServiceNow's ``sys_updated_on``) for the bonded
    cases among ``case_ids``: the first update of the record's last spell in a resolved or closed state, as the
    vendor's pushes and polls kept in the inbox show it. The push of the resolving update carries that update's
    ``sys_updated_on``, the moment the vendor's system set the record resolved (Kompass applies it later: a sync
    delay, a queue). Cases with no such event in the inbox (not bonded, bonded by e-mail, only seen by
    reconciliation) are left out; their caller falls back on when Kompass applied the change (issue 13)."""
    from datetime import UTC, datetime

    from kompass.vendors.mapping import Mapping
    from kompass.vendors.models import InboxEvent, VendorLink

    links = {
        (connection_id, sys_id): case_id
        for case_id, connection_id, sys_id in VendorLink.objects.filter(case_id__in=list(case_ids))
        .exclude(sys_id="")
        .values_list("case_id", "connection_id", "sys_id")
    }
    mappings = {
        pk: Mapping(mapping or {})
        for pk, mapping in VendorConnection.objects.filter(pk__in={c for c, _s in links}).values_list("pk", "mapping")
    }
    seen = []  # (case_id, sys_updated_on, mod_count, resolved?)
    sys_ids = sorted({s for _c, s in links})
    for index in range(0, len(sys_ids), 500):
        events = InboxEvent.objects.filter(sys_id__in=sys_ids[index : index + 500]).values_list(
            "connection_id", "sys_id", "mod_count", "payload"
        )
        for connection_id, sys_id, mod_count, payload in events.iterator(chunk_size=2000):
            case_id = links.get((connection_id, sys_id))
            record = payload.get("record") if isinstance(payload.get("record"), dict) else payload
            updated = str(record.get("sys_updated_on") or "")
            if case_id is None or not updated or str(record.get("state", "")) in ("", "1"):
                continue
            resolved = mappings[connection_id].case_state(record) in ("resolved", "closed")
            seen.append((case_id, updated, mod_count, resolved))
    spells: dict[int, str | None] = {}
    for case_id, updated, _mod, resolved in sorted(seen, key=lambda row: row[:3]):
        if not resolved:
            spells[case_id] = None
        elif spells.get(case_id) is None:
            spells[case_id] = updated
    moments = {}
    for case_id, updated in spells.items():
        try:
            moments[case_id] = datetime.strptime(updated, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except (TypeError, ValueError):
            continue
    return moments
