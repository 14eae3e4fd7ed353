"""The surveys app's menu items (autodiscovered)."""

from django.utils.translation import gettext_lazy as _

from kompass.core.navigation import NavItem, register

register(NavItem(_("Temperature"), "surveys:heatmap", permission=("view", "surveys.ResultCell"), order=50))
register(NavItem(_("Follow-up"), "surveys:action_list", permission=("view", "surveys.Action"), order=51))
register(NavItem(_("Dialogue"), "surveys:meeting_list", permission=("view", "surveys.Meeting"), order=52))
