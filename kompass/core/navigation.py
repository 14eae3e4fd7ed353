"""The main menu, filled by each app from its own ``navigation.py`` (autodiscovered).

::

    from django.utils.translation import gettext_lazy as _
    from kompass.core.navigation import NavItem, register

    register(NavItem(_("Vendors"), "vendors:connection_list", permission=("view", "vendors.VendorConnection")))

``permission`` is ``(action, "app_label.Model")`` asked of the access matrix, a callable ``f(user) -> bool``,
or ``None`` (every signed-in user). ``badge`` is an optional ``f(user) -> int`` shown beside the label
when it is not zero (e.g. unread notifications), with ``badge_label`` read out after the number.
An item is the current page when the path starts with its URL
(``match_prefix``, the longest match wins) or equals it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.urls import reverse

from kompass.core import access

__all__ = ["NavItem", "items_for", "register"]


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: tuple[str, str] | Callable | None = None
    order: int = 100
    match_prefix: bool = True
    badge: Callable | None = None
    badge_label: str = ""

    def allowed(self, user) -> bool:
        if self.permission is None:
            return True
        if callable(self.permission):
            return bool(self.permission(user))
        action, label = self.permission
        return access.can(user, action, apps.get_model(label))


_items: dict[str, NavItem] = {}


def register(*items: NavItem) -> None:
    for item in items:
        _items[item.url_name] = item


def items_for(request) -> list[dict]:
    """The menu for this request: ``[{"label", "url", "current", "badge"}]``, in order, only what the user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or access.is_integration_account(user):
        return []
    shown = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.url_name)):
        if item.allowed(user):
            badge = item.badge(user) if item.badge else None
            shown.append(
                {"label": item.label, "url": reverse(item.url_name), "item": item, "current": False, "badge": badge}
            )
    path = request.path
    matches = [
        entry
        for entry in shown
        if path == entry["url"]
        or (entry["item"].match_prefix and entry["url"] != "/" and path.startswith(entry["url"]))
    ]
    if matches:
        max(matches, key=lambda entry: len(entry["url"]))["current"] = True
    return shown


# ---------------------------------------------------------------------------------------------
# Core's own items (other apps register theirs in <app>/navigation.py)
# ---------------------------------------------------------------------------------------------


def _core_items() -> list[NavItem]:
    from django.utils.translation import gettext_lazy as _

    return [
        NavItem(_("Overview"), "core:home", order=0, match_prefix=False),
        NavItem(_("Agencies"), "core:agency_list", permission=("view", "core.Agency"), order=10),
        NavItem(_("Services"), "core:service_list", permission=("view", "core.Service"), order=20),
        NavItem(_("Systems"), "core:system_list", permission=("view", "core.System"), order=30),
        NavItem(_("Users"), "core:user_list", permission=("manage", "core.User"), order=900),
        NavItem(_("API tokens"), "core:token_list", permission=("view", "core.ApiToken"), order=910),
        NavItem(_("Organisation"), "core:organisation_edit", permission=("change", "core.Organisation"), order=920),
        NavItem(_("Audit log"), "core:audit_log", permission=("audit", "core.Organisation"), order=930),
    ]


register(*_core_items())
