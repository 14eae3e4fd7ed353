"""The reports app's notification events."""

from django.utils.translation import gettext_lazy as _

from kompass.core import notifications

notifications.declare("reports.monthly_report", _("A monthly service report is ready"))
notifications.declare("reports.dispute", _("A statement line was disputed or a dispute answered"))
