"""Access rules, in one place.

Every view and API queryset asks this module which agencies' data a user may see or change.
The answer is ``ALL`` (the user reaches every agency) or a frozenset of agency ids (possibly empty).

- Administrators (and superusers), agreement managers and service desk agents see every agency.
- Key account managers see the agencies they serve.
- Agency IT main contacts, system owners and agency administrators see their own agency.
- Vendor integration accounts see no agency's data through the UI.

Changing data: administrators and agreement managers change every agency's data; an agency
administrator changes their own agency's data. Nobody else changes agency data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kompass.core.roles import AGENCY_EDITOR_ROLES, CHANGE_ALL_ROLES, SEE_ALL_ROLES, Role

if TYPE_CHECKING:
    pass

__all__ = ["ALL", "Access", "access_for", "can_change_agency", "can_manage_users", "can_view_agency"]


class _All:
    """Marker: every agency."""

    def __repr__(self) -> str:
        return "ALL"

    def __contains__(self, item) -> bool:
        return True


ALL = _All()


@dataclass(frozen=True)
class Access:
    """What one user reaches."""

    view: _All | frozenset[int]
    change: _All | frozenset[int]
    roles: frozenset[str]
    is_admin: bool

    @property
    def sees_all(self) -> bool:
        return self.view is ALL

    @property
    def changes_all(self) -> bool:
        return self.change is ALL


_NOBODY = Access(view=frozenset(), change=frozenset(), roles=frozenset(), is_admin=False)


def access_for(user) -> Access:
    """Compute (and cache on the user object, per request) what ``user`` may reach."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NOBODY
    cached = getattr(user, "_kompass_access", None)
    if cached is not None:
        return cached
    assignments = list(user.role_assignments.all().values_list("role", "agency_id"))
    roles = frozenset(role for role, _agency in assignments)
    is_admin = bool(user.is_superuser) or Role.ADMINISTRATOR in roles
    if is_admin or roles & SEE_ALL_ROLES:
        view = ALL
    else:
        view = frozenset(agency for role, agency in assignments if agency is not None)
    if is_admin or roles & CHANGE_ALL_ROLES:
        change = ALL
    else:
        change = frozenset(agency for role, agency in assignments if role in AGENCY_EDITOR_ROLES and agency)
    access = Access(view=view, change=change, roles=roles, is_admin=is_admin)
    user._kompass_access = access
    return access


def can_view_agency(user, agency_id: int) -> bool:
    return agency_id in access_for(user).view


def can_change_agency(user, agency_id: int) -> bool:
    return agency_id in access_for(user).change


def can_create_agency(user) -> bool:
    return access_for(user).changes_all


def can_manage_users(user) -> bool:
    return access_for(user).is_admin


def can_manage_catalogue(user) -> bool:
    return access_for(user).changes_all


def can_view_audit_log(user) -> bool:
    """The organisation-wide audit view; object pages show their own history to whoever sees the object."""
    access = access_for(user)
    return access.is_admin or Role.AGREEMENT_MANAGER in access.roles
