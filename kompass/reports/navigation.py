"""The reports app's menu items (autodiscovered)."""

from django.utils.translation import gettext_lazy as _

from kompass.core.navigation import NavItem, register

register(NavItem(_("Scorecard"), "reports:scorecard", permission=("create", "reports.Statement"), order=60))
register(
    NavItem(_("Service levels per agency"), "reports:agencies", permission=("view", "reports.CaseLevel"), order=61)
)
register(NavItem(_("Statements"), "reports:statement_list", permission=("view", "reports.Statement"), order=62))
register(NavItem(_("Service reports"), "reports:report_list", permission=("view", "reports.MonthlyReport"), order=63))
