from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    """Vendor connections and e-bonding. Its access, audit, demo, navigation, receivers (the ``case_changed``
    receiver that writes the outbox), durable and scheduling modules are autodiscovered by core."""

    name = "kompass.vendors"
    label = "vendors"
    verbose_name = _("Vendors")
