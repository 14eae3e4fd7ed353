"""The cases app's menu items (autodiscovered)."""

from django.utils.translation import gettext_lazy as _

from kompass.cases.models import Case
from kompass.core import access
from kompass.core.navigation import NavItem, register


def sees_beyond_own(user) -> bool:
    """The queue is for those whose roles show them cases beyond their own; a requester alone has the portal."""
    roles = access.roles_of(user)
    policy = access.policy_for(Case)
    return roles.is_admin or any(
        policy.scope("view", role).kind != "none" for role, _agencies in roles if role != access.REQUESTER
    )


register(
    NavItem(_("Cases"), "cases:case_list", permission=sees_beyond_own, order=5),
    NavItem(_("My cases"), "cases:portal", permission=("create", "cases.Case"), order=6),
)
