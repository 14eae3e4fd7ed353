"""The surveys app's scheduled jobs (``kompass scheduler`` imports this module)."""

from datetime import time

from kompass.core.scheduling import Cron, FirstWorkingDayOfMonth, scheduled
from kompass.surveys import services


@scheduled(FirstWorkingDayOfMonth(time(7, 0)), name="surveys.monthly")
def open_monthly() -> None:
    """On the first working day of the month: last month's campaign of every monthly template."""
    services.open_monthly_campaigns()


@scheduled(Cron("30 7 * * *"), name="surveys.daily")
def daily() -> None:
    """Close campaigns past their closing date (and run the follow-up rules), remind, flag overdue actions."""
    services.close_due_campaigns()
    services.send_reminders()
    services.notify_overdue()
