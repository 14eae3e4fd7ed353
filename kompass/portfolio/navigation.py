"""The portfolio's menu items (autodiscovered)."""

from django.utils.translation import gettext_lazy as _

from kompass.core.navigation import NavItem, register

register(NavItem(_("Portfolio"), "portfolio:system_list", permission=("view", "portfolio.SystemProfile"), order=30))
register(
    NavItem(_("Integrations"), "portfolio:integration_list", permission=("view", "portfolio.Integration"), order=31)
)
register(
    NavItem(_("Transformation"), "portfolio:transformation", permission=("view", "portfolio.Transformation"), order=32)
)
