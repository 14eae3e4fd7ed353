"""The vendors app's own settings, read from the environment (django-environ); none is required.

| Variable | Default | Meaning |
|---|---|---|
| ``KOMPASS_VENDORS_POLL_SECONDS`` | 60 | How often the poller asks each vendor for changed records |
| ``KOMPASS_VENDORS_RECONCILE_MINUTES`` | 60 | How often the reconciliation job runs |
| ``KOMPASS_VENDORS_RECONCILE_CLOSED_DAYS`` | 7 | Links of cases closed within this many days are reconciled too |
| ``KOMPASS_VENDORS_WEBHOOK_WINDOW_SECONDS`` | 300 | Replay window of the webhook's signed timestamp |
| ``KOMPASS_VENDORS_NOT_INFORMED_MINUTES`` | 5 | Vendor resolutions not notified after this long are counted |
| ``KOMPASS_VENDORS_RETRY_CAP_SECONDS`` | 120 | Longest back-off between two attempts of an outbox or inbox row |
| ``KOMPASS_VENDORS_MAX_ATTEMPTS`` | 20 | Attempts before an outbox or inbox row becomes a dead letter |
| ``KOMPASS_VENDORS_ALERT_SECONDS`` | 60 | How often the alert check runs |
| ``KOMPASS_VENDORS_ALERT_BACKLOG`` | 500 | Alert: outbox messages waiting |
| ``KOMPASS_VENDORS_ALERT_OLDEST_MINUTES`` | 15 | Alert: the oldest waiting outbox message is older |
| ``KOMPASS_VENDORS_ALERT_DEAD_LETTERS`` | 1 | Alert: this many dead letters (or refused writes) |
| ``KOMPASS_VENDORS_ALERT_SILENT_MINUTES`` | 15 | Alert: no poll or webhook from a linked connection |
"""

import environ

env = environ.Env()


def poll_seconds() -> int:
    return env.int("KOMPASS_VENDORS_POLL_SECONDS", default=60)


def reconcile_minutes() -> int:
    return env.int("KOMPASS_VENDORS_RECONCILE_MINUTES", default=60)


def reconcile_closed_days() -> int:
    return env.int("KOMPASS_VENDORS_RECONCILE_CLOSED_DAYS", default=7)


def webhook_window_seconds() -> int:
    return env.int("KOMPASS_VENDORS_WEBHOOK_WINDOW_SECONDS", default=300)


def not_informed_minutes() -> int:
    return env.int("KOMPASS_VENDORS_NOT_INFORMED_MINUTES", default=5)


def lease_seconds() -> int:
    """How long a vendors worker's claim on an outbox or inbox row lasts (``KOMPASS_VENDORS_LEASE_SECONDS``, 60):
    after a killed worker its rows wait this long before another takes them over."""
    return env.int("KOMPASS_VENDORS_LEASE_SECONDS", default=60)


def alert_seconds() -> int:
    return env.int("KOMPASS_VENDORS_ALERT_SECONDS", default=60)


def alert_thresholds() -> dict:
    """The alert thresholds (docs/e-bonding.md, "Alerts")."""
    return {
        "backlog": env.int("KOMPASS_VENDORS_ALERT_BACKLOG", default=500),
        "oldest_minutes": env.int("KOMPASS_VENDORS_ALERT_OLDEST_MINUTES", default=15),
        "dead_letters": env.int("KOMPASS_VENDORS_ALERT_DEAD_LETTERS", default=1),
        "silent_minutes": env.int("KOMPASS_VENDORS_ALERT_SILENT_MINUTES", default=15),
        "not_informed_minutes": not_informed_minutes(),
    }


def retry_cap_seconds() -> int:
    return env.int("KOMPASS_VENDORS_RETRY_CAP_SECONDS", default=120)


def max_attempts() -> int:
    """Attempts of a new outbox or inbox row before it is a dead letter (20: with the 120 s cap, over half an hour
    of a failing vendor; at 20 % errors per request a message needing three requests still fails 20 times in a
    row only once in ~50,000)."""
    return env.int("KOMPASS_VENDORS_MAX_ATTEMPTS", default=20)
