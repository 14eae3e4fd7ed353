"""The reports app's scheduled jobs (``kompass scheduler`` imports this module)."""

from datetime import time, timedelta

from kompass.core.scheduling import Every, FirstWorkingDayOfMonth, scheduled


@scheduled(FirstWorkingDayOfMonth(time(6, 30)), name="reports.monthly")
def monthly() -> None:
    """On the first working day of the month: a job for last month's statement and service report of every
    contract. The scheduler only enqueues them; the worker generates (``reports.durable``)."""
    from kompass.reports import report

    report.enqueue_due()


@scheduled(Every(timedelta(minutes=10)), name="reports.scorecards")
def scorecards() -> None:
    """Every ten minutes: ask the worker for new scorecard figures of this and last month where the stored ones
    are out of date (and for this month's of every contract with service levels), so a page finds them ready."""
    from kompass.reports import services

    services.refresh_open_scorecards()
