"""E-mail alerts to administrators when the integration's health crosses a threshold (docs/e-bonding.md).

:func:`crossed` names the conditions over their thresholds now: outbox backlog, oldest pending age, dead
letters (and refused writes), a connection with links that had no successful poll or webhook for N minutes,
vendor resolutions whose requester was not informed within N minutes. :func:`check` (the scheduled job
``vendors.alerts``) opens one :class:`HealthAlert` per condition when it is first crossed and e-mails the
administrators once through the notifications ledger (key ``vendors:alert:<pk>:opened``), however many ticks
it stays crossed; when it clears the alert is closed and a "recovered" message goes out (``…:recovered``).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kompass.core.roles import Role
from kompass.notifications import services as notifications
from kompass.vendors import conf, health
from kompass.vendors.models import HealthAlert, VendorConnection

EVENT = "vendors.health_alert"


def crossed(*, now=None, snapshot: dict | None = None) -> dict[str, str]:
    """``{condition: detail}`` of every threshold crossed now."""
    now = now or timezone.now()
    limits = conf.alert_thresholds()
    data = snapshot or health.snapshot(now=now)
    found = {}
    outbox = data["outbox"]
    if outbox["backlog"] >= limits["backlog"]:
        found["outbox_backlog"] = f"{outbox['backlog']} messages waiting (threshold {limits['backlog']})"
    oldest = outbox["oldest_pending_age_seconds"]
    if oldest is not None and oldest >= limits["oldest_minutes"] * 60:
        found["outbox_oldest"] = f"oldest waiting {oldest / 60:.0f} min (threshold {limits['oldest_minutes']} min)"
    if outbox["dead_letters"] >= limits["dead_letters"]:
        found["dead_letters"] = f"{outbox['dead_letters']} dead letters or refused writes"
    silent = now - timedelta(minutes=limits["silent_minutes"])
    for connection in VendorConnection.objects.filter(active=True, links__isnull=False).distinct():
        heard = max((m for m in (connection.last_poll_at, connection.last_webhook_at) if m), default=None)
        first_link = connection.links.order_by("created").values_list("created", flat=True).first()
        if (heard or first_link) and (heard or first_link) < silent:
            found[f"silent:{connection.pk}"] = (
                f"{connection.name}: no successful poll or webhook for {limits['silent_minutes']} min"
            )
    if data["requesters_not_informed"]:
        found["requesters_not_informed"] = (
            f"{data['requesters_not_informed']} vendor resolutions not told to the requester within "
            f"{limits['not_informed_minutes']} min"
        )
    return found


def _administrators():
    user_model = get_user_model()
    return list(
        user_model.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(role_assignments__role=Role.ADMINISTRATOR))
        .distinct()
        .order_by("pk")
    )


def _send(alert: HealthAlert, kind: str) -> None:
    notifications.send(
        event=EVENT,
        recipients=_administrators(),
        template=f"vendors/notifications/alert_{kind}",
        context={"condition": alert.condition, "detail": alert.detail, "opened": alert.opened.isoformat()},
        key=f"vendors:alert:{alert.pk}:{kind}",
        channels=("email",),
    )


def check(*, now=None) -> dict[str, list[str]]:
    """Open alerts for new crossings, close the cleared ones; returns ``{"opened": [...], "recovered": [...]}``."""
    now = now or timezone.now()
    found = crossed(now=now)
    opened, recovered = [], []
    with transaction.atomic():
        open_alerts = {a.condition: a for a in HealthAlert.objects.select_for_update().filter(closed__isnull=True)}
        for condition, detail in found.items():
            if condition in open_alerts:
                continue
            try:
                with transaction.atomic():
                    alert = HealthAlert.objects.create(condition=condition, detail=detail[:500], opened=now)
            except IntegrityError:  # another check opened it a moment ago
                continue
            _send(alert, "opened")
            opened.append(condition)
        for condition, alert in open_alerts.items():
            if condition not in found:
                alert.closed = now
                alert.save(update_fields=["closed"])
                _send(alert, "recovered")
                recovered.append(condition)
    return {"opened": opened, "recovered": recovered}
