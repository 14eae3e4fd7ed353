from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Vendor performance. Access, audit, navigation and scheduling are autodiscovered; ``ready`` declares the
    notification events and connects the receivers that mark stored scorecard figures out of date."""

    name = "kompass.reports"
    label = "reports"
    verbose_name = _("Vendor performance")

    def ready(self) -> None:
        from kompass.reports import events, receivers  # noqa: F401

        receivers.connect()
