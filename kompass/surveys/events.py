"""The surveys app's notification events (sent through ``kompass.notifications.services.send``)."""

from django.utils.translation import gettext_lazy as _

from kompass.core import notifications

notifications.declare("surveys.invitation", _("An invitation to a temperature survey"), channels=("email",))
notifications.declare("surveys.reminder", _("A reminder of a temperature survey"), channels=("email",))
notifications.declare("surveys.action_opened", _("A follow-up action was assigned to me"))
notifications.declare("surveys.action_overdue", _("A follow-up action of mine is overdue"))
notifications.declare("surveys.meeting_invitation", _("An invitation to an agency meeting"))
