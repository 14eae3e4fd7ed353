"""The roles of Kompass. What each role may do is the permission matrix (``kompass.core.access``).

Agency roles hold for one agency. Global roles hold across the organisation; a key account
manager is global in kind but scoped to the agencies they serve (one assignment per agency).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # Agency roles (one agency each)
    AGENCY_IT_CONTACT = "agency_it_contact", _("IT main contact")
    SYSTEM_OWNER = "system_owner", _("System owner")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    # Key account manager: one assignment per agency served
    KEY_ACCOUNT_MANAGER = "key_account_manager", _("Key account manager")
    # Global roles
    AGREEMENT_MANAGER = "agreement_manager", _("Agreement manager")
    SERVICE_DESK_AGENT = "service_desk_agent", _("Service desk agent")
    VENDOR_INTEGRATION = "vendor_integration", _("Vendor integration account")
    # The vendor's people (sign in to the web UI). Holds no agency; an app binds it to what it may reach
    # (the contract app: the contracts that name the user as a vendor representative).
    VENDOR_REPRESENTATIVE = "vendor_representative", _("Vendor representative")
    ADMINISTRATOR = "administrator", _("Administrator")


#: Roles that must name an agency.
AGENCY_SCOPED_ROLES = frozenset(
    {Role.AGENCY_IT_CONTACT, Role.SYSTEM_OWNER, Role.AGENCY_ADMIN, Role.KEY_ACCOUNT_MANAGER}
)
#: Roles that hold for the whole organisation and must not name an agency.
GLOBAL_ROLES = frozenset(
    {
        Role.AGREEMENT_MANAGER,
        Role.SERVICE_DESK_AGENT,
        Role.VENDOR_INTEGRATION,
        Role.VENDOR_REPRESENTATIVE,
        Role.ADMINISTRATOR,
    }
)
