from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractConfig(AppConfig):
    """The contract requirements register. Its access, audit, demo and navigation modules are autodiscovered."""

    name = "kompass.contract"
    label = "contract"
    verbose_name = _("Contract")

    def ready(self):
        from kompass.contract import reauth  # noqa: F401  (connects the re-authentication receiver)
