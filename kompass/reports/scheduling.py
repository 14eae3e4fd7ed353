"""The reports app's scheduled job (``kompass scheduler`` imports this module)."""

from datetime import time

from kompass.core.scheduling import FirstWorkingDayOfMonth, scheduled


@scheduled(FirstWorkingDayOfMonth(time(6, 30)), name="reports.monthly")
def monthly() -> None:
    """On the first working day of the month: last month's statement and service report of every contract."""
    from kompass.reports import report

    report.generate_due()
