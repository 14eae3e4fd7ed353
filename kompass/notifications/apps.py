from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The delivery ledger and in-app notifications. Its access, durable, navigation and demo modules are
    autodiscovered by core."""

    name = "kompass.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from kompass.core import notifications

        #: An administrator's test message to themself (checks the mail setup end to end): always sent.
        notifications.declare(TEST_EVENT, _("Test message from an administrator"), mandatory=True)


TEST_EVENT = "notifications.test"
TEST_TEMPLATE = "notifications/messages/test"
