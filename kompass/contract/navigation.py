"""The contract app's menu item (autodiscovered)."""

from django.utils.translation import gettext_lazy as _

from kompass.core.navigation import NavItem, register

register(NavItem(_("Contracts"), "contract:contract_list", permission=("view", "contract.Contract"), order=40))
