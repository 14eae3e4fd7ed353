"""The vendors app's menu item (autodiscovered)."""

from django.utils.translation import gettext_lazy as _

from kompass.core.navigation import NavItem, register

register(NavItem(_("Vendors"), "vendors:connection_list", permission=("view", "vendors.VendorConnection"), order=50))
register(NavItem(_("Vendor links"), "vendors:link_list", permission=("view", "vendors.VendorLink"), order=51))
