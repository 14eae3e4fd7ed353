"""The notification events the cases app sends (declared with core's registry; sent through ``notify.py``)."""

from django.utils.translation import gettext_lazy as _

from kompass.core import notifications

# Requester
notifications.declare("cases.received", _("My case was received"))
notifications.declare("cases.replied", _("A public reply on my case"))
notifications.declare("cases.needs_info", _("My case needs more information"))
notifications.declare("cases.resolved", _("My case is resolved"))
notifications.declare("cases.closed", _("My case is closed"))
# Agents
notifications.declare("cases.assigned", _("A case was assigned to me"))
notifications.declare("cases.requester_replied", _("The requester replied on my case"))
notifications.declare("cases.sla_warning", _("A case of mine nears its SLA deadline"))
notifications.declare("cases.sla_breached", _("A case of mine breached its SLA"))
