from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

#: The modules every Kompass app may have, imported at start-up so an app plugs in without editing core:
#: ``access`` (its rows of the permission matrix), ``audit`` (auditlog registrations), ``demo``
#: (receivers of ``demo_data_loaded``), ``health`` (its summary on ``/healthz``, ``core/health.py``),
#: ``navigation`` (its menu items), ``panels`` (what it shows in other apps' page slots, ``core/panels.py``)
#: and ``receivers`` (its receivers of other apps' signals, e.g. the vendor outbox's ``case_changed`` receiver).
DISCOVERED_MODULES = ("access", "audit", "demo", "health", "navigation", "panels", "receivers")


class CoreConfig(AppConfig):
    name = "kompass.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from kompass.core import audit, navigation, policies, wakeup  # noqa: F401  (core's own registrations)

        autodiscover_modules(*DISCOVERED_MODULES)
