"""The cases app's scheduled jobs (``kompass scheduler`` imports this module)."""

from datetime import timedelta

from django.conf import settings

from kompass.cases import mail, services
from kompass.core.scheduling import Cron, Every, scheduled


@scheduled(Every(timedelta(minutes=1)), name="cases.refresh_sla")
def refresh_sla() -> None:
    """Flip the warning and breach flags of the cases whose time has come (and tell their agents)."""
    services.refresh_sla()


@scheduled(Cron("15 * * * *"), name="cases.auto_close")
def auto_close() -> None:
    """Close resolved cases nobody answered within the configured working days."""
    services.auto_close_resolved()


@scheduled(Every(timedelta(seconds=settings.KOMPASS_INTAKE_INTERVAL)), name="cases.intake")
def intake() -> None:
    """Read the intake mailbox (``KOMPASS_INTAKE_MAILBOX``): replies by e-mail and new cases; off when unset."""
    mail.run_intake()
