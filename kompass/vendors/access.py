"""The vendors app's rows of the access matrix (autodiscovered)."""

from kompass.core import access
from kompass.core.access import ALL
from kompass.core.roles import Role
from kompass.vendors.models import VendorConnection

access.register(
    VendorConnection,
    rules={
        "view": {Role.AGREEMENT_MANAGER: ALL},
        "create": {Role.AGREEMENT_MANAGER: ALL},
        "change": {Role.AGREEMENT_MANAGER: ALL},
        # No delete: a connection is deactivated, never deleted (its history stays); admins only.
        "check": {Role.AGREEMENT_MANAGER: ALL},
    },
    actions=("check",),
)
