from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Cases. Its access, audit, demo and navigation modules are autodiscovered by core."""

    name = "kompass.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from kompass.cases import events  # noqa: F401  (declares the notification events)
