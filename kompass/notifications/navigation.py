"""The notifications app's menu items (autodiscovered): the inbox with its unread count, and the ledger."""

from django.utils.translation import gettext_lazy as _

from kompass.core.navigation import NavItem, register
from kompass.notifications.services import unread_count

register(
    NavItem(
        _("Notifications"),
        "notifications:inbox",
        permission=("view", "notifications.Notification"),
        order=800,
        badge=unread_count,
        badge_label=_("unread"),
    ),
    NavItem(
        _("Delivery ledger"), "notifications:delivery_list", permission=("view", "notifications.Delivery"), order=940
    ),
)
