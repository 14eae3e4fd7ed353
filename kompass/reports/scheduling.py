"""The reports app's scheduled job (``kompass scheduler`` imports this module)."""

from datetime import time

from kompass.core.scheduling import FirstWorkingDayOfMonth, scheduled


@scheduled(FirstWorkingDayOfMonth(time(6, 30)), name="reports.monthly")
def monthly() -> None:
    """On the first working day of the month: a job for last month's statement and service report of every
    contract. The scheduler only enqueues them; the worker generates (``reports.durable``)."""
    from kompass.reports import report

    report.enqueue_due()
