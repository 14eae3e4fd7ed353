"""Integration health: the numbers behind the health page, its JSON endpoint and the /healthz summary."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kompass.core import health as core_health
from kompass.core import notifications as core_notifications
from kompass.notifications import services as notifications
from kompass.vendors import conf
from kompass.vendors.models import InboxEvent, OutboxMessage, ReconciliationRun, VendorConnection, VendorLink

ACTIVE = [OutboxMessage.State.PENDING, OutboxMessage.State.CLAIMED]


def _age(now, moment):
    return round((now - moment).total_seconds(), 1) if moment else None


def requesters_not_informed(*, now=None, minutes: int | None = None) -> list[dict]:
    """Vendor resolutions older than ``minutes`` whose requester has no sent notification (goal: none), oldest
    first. Two queries whatever the number of bonded cases (and one more per 500 resolutions): the health page,
    ``/healthz`` and the alert check read it often."""
    now = now or timezone.now()
    limit = now - timedelta(minutes=minutes if minutes is not None else conf.not_informed_minutes())
    resolutions = [
        (f"case:{case_id}:resolved:{change_id}", number, change_id, created)  # the ledger key of its notification
        for case_id, number, change_id, detail, created in VendorLink.objects.filter(
            case__state__in=["resolved", "closed"],
            case__changes__origin="vendor",
            case__changes__kind="state",
            case__changes__created__lte=limit,
        )
        .order_by("case__changes__created", "case__changes__pk")
        .values_list("case_id", "case__number", "case__changes__pk", "case__changes__detail", "case__changes__created")
        if (detail or {}).get("to") == "resolved"
    ]
    told = notifications.delivered_keys(key for key, _, _, _ in resolutions)
    return [
        {"case": number, "change": change_id, "resolved": created.isoformat()}
        for key, number, change_id, created in resolutions
        if key not in told
    ]


def snapshot(*, now=None) -> dict:
    now = now or timezone.now()
    hour = now - timedelta(hours=1)
    waiting = OutboxMessage.objects.filter(state__in=ACTIVE)
    inbox_waiting = InboxEvent.objects.filter(state__in=ACTIVE)
    last_run = ReconciliationRun.objects.exclude(finished=None).first()
    not_informed = requesters_not_informed(now=now)
    connections = [
        {
            "id": c.pk,
            "name": c.name,
            "active": c.active,
            "last_poll": c.last_poll_at.isoformat() if c.last_poll_at else None,
            "last_poll_age_seconds": _age(now, c.last_poll_at),
            "last_webhook": c.last_webhook_at.isoformat() if c.last_webhook_at else None,
            "last_webhook_age_seconds": _age(now, c.last_webhook_at),
            "poll_watermark": c.poll_watermark,
            "links": c.links.count(),
        }
        for c in VendorConnection.objects.all()
    ]
    return {
        "outbox": {
            "backlog": waiting.count(),
            "oldest_pending_age_seconds": _age(now, waiting.aggregate(m=Min("created"))["m"]),
            "delivered_last_hour": OutboxMessage.objects.filter(
                state="done", refused=False, finished__gte=hour
            ).count(),
            "failures_last_hour": OutboxMessage.objects.filter(
                ~Q(last_error=""), ~Q(last_error__startswith="Postponed"), updated__gte=hour
            )
            .exclude(state="done", refused=False)
            .count(),
            "dead_letters": OutboxMessage.objects.filter(Q(state="dead") | Q(refused=True)).count(),
        },
        "inbox": {
            "backlog": inbox_waiting.count(),
            "lag_seconds": _age(now, inbox_waiting.aggregate(m=Min("created"))["m"]),
            "received_last_hour": InboxEvent.objects.filter(created__gte=hour).count(),
            "dead": InboxEvent.objects.filter(state="dead").count(),
        },
        "links": {
            "total": VendorLink.objects.count(),
            "pending": VendorLink.objects.filter(sync_state="pending").count(),
            "refused": VendorLink.objects.filter(sync_state="refused").count(),
        },
        "drift": {
            "last_run": last_run.finished.isoformat() if last_run else None,
            "summary": last_run.summary if last_run else None,
            "need_attention": last_run.attention if last_run else None,
        },
        "requesters_not_informed": len(not_informed),
        "requesters_not_informed_cases": not_informed[:20],
        "connections": connections,
    }


def summary(*, now=None) -> dict:
    """The ``/healthz`` summary (registered with ``kompass.core.health``): ``failing`` while an alert threshold
    is crossed (``alerts.crossed``), else ``ok``. Counts only, no personal data."""
    from kompass.vendors import alerts

    data = snapshot(now=now)
    crossed = alerts.crossed(now=now, snapshot=data)
    return {
        "status": core_health.FAILING if crossed else core_health.OK,
        "alerts": sorted(crossed),
        "outbox_backlog": data["outbox"]["backlog"],
        "outbox_oldest_pending_age_seconds": data["outbox"]["oldest_pending_age_seconds"],
        "dead_letters": data["outbox"]["dead_letters"],
        "inbox_backlog": data["inbox"]["backlog"],
        "inbox_lag_seconds": data["inbox"]["lag_seconds"],
        "drift_need_attention": data["drift"]["need_attention"],
        "requesters_not_informed": data["requesters_not_informed"],
    }


core_health.register("vendors", summary)
core_notifications.declare(
    "vendors.health_alert", _("An integration health threshold was crossed or recovered"), channels=("email",)
)
