"""The notifications app's rows of the access matrix (autodiscovered)."""

from kompass.core import access
from kompass.core.access import own
from kompass.core.roles import Role
from kompass.notifications.models import Delivery, Notification

# The ledger is the administrators' (an administrator reaches every model and action): it holds every
# person's addresses and what was sent to them. Apps show their own object's deliveries through
# ``services.deliveries_for(obj)`` on pages the matrix already let the user see.
access.register(Delivery, rules={}, actions=("retry",))

# Everyone signed in (except integration accounts, which have no inbox) sees and marks read their own
# in-app notifications, and nobody else's. Nobody creates or deletes them by hand: only deliveries do.
_OWN = own("recipient")
_PEOPLE = [role for role in Role if role not in (Role.VENDOR_INTEGRATION, Role.ADMINISTRATOR)] + [access.REQUESTER]
access.register(
    Notification,
    rules={"view": dict.fromkeys(_PEOPLE, _OWN), "change": dict.fromkeys(_PEOPLE, _OWN)},
    agency_field=None,
)
