from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    """Vendor connections and e-bonding. Its access, audit, demo, navigation, durable and scheduling modules
    are autodiscovered by core; the ``case_changed`` receiver is connected here."""

    name = "kompass.vendors"
    label = "vendors"
    verbose_name = _("Vendors")

    def ready(self) -> None:
        from kompass.vendors import receivers  # noqa: F401
