from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortfolioConfig(AppConfig):
    """Portfolio, data-exchange governance and transformation tracking (issue #12).

    Its access, audit, demo and navigation modules are autodiscovered by core; ``ready`` connects the
    one signal it needs (keeping an integration's agencies right when a system changes agency).
    """

    name = "kompass.portfolio"
    label = "portfolio"
    verbose_name = _("Portfolio")

    def ready(self) -> None:
        from kompass.portfolio import signals  # noqa: F401
