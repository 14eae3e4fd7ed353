from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    name = "kompass.vendors"
    label = "vendors"
    verbose_name = _("Vendors")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from kompass.vendors import demo  # noqa: F401  (connects the demo-data receiver)
        from kompass.vendors.models import VendorConnection

        auditlog.register(VendorConnection)
