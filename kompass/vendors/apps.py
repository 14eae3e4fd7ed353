from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    """Vendor connections. Its access, audit, demo and navigation modules are autodiscovered by core."""

    name = "kompass.vendors"
    label = "vendors"
    verbose_name = _("Vendors")
