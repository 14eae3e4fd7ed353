"""The notifications ledger's summary on ``/healthz`` (``kompass.core.health``; autodiscovered).

``failing`` when the oldest undelivered row has waited longer than ``KOMPASS_NOTIFICATIONS_STALE_MINUTES``
(15: the worker is down or the mail server refuses everything); ``attention`` with dead rows; else ``ok``.
"""

import environ

from kompass.core import health
from kompass.notifications import services


@health.check("notifications")
def summary() -> dict:
    data = services.health()
    stale = environ.Env().int("KOMPASS_NOTIFICATIONS_STALE_MINUTES", default=15) * 60
    oldest = data["oldest_pending_age"]
    if oldest is not None and oldest > stale:
        status = health.FAILING
    elif data["dead"]:
        status = health.ATTENTION
    else:
        status = health.OK
    return {"status": status, **data}
