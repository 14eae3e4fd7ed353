"""The vendors app's rows of the access matrix (autodiscovered).

* Connections and service routes: agreement managers (administrators always).
* Links (a case bonded to a vendor record): whoever works cases (service desk agents) sees them, sends a
  case to the vendor (``send``) and retries its dead letters (``retry``); agreement managers read them.
* Outbox, inbox and reconciliation rows are bookkeeping: read through the link and health pages.
* The webhook endpoint stores an inbox event: only the vendor integration account (with the token scope
  ``vendors:webhook``) may ``create`` one.
"""

from kompass.core import access
from kompass.core.access import ALL
from kompass.core.roles import Role
from kompass.vendors.models import (
    EmailRecord,
    HealthAlert,
    InboxEvent,
    OutboxMessage,
    ReconciliationRun,
    RoutingVersion,
    ServiceRoute,
    VendorConnection,
    VendorLink,
)

access.register(
    VendorConnection,
    rules={
        "view": {Role.AGREEMENT_MANAGER: ALL},
        "create": {Role.AGREEMENT_MANAGER: ALL},
        "change": {Role.AGREEMENT_MANAGER: ALL},
        # No delete: a connection is deactivated, never deleted (its history stays); admins only.
        "check": {Role.AGREEMENT_MANAGER: ALL},
        "reconcile": {Role.AGREEMENT_MANAGER: ALL},
    },
    actions=("check", "reconcile"),
)

access.register(
    ServiceRoute,
    rules={
        "view": {Role.AGREEMENT_MANAGER: ALL, Role.SERVICE_DESK_AGENT: ALL},
        "create": {Role.AGREEMENT_MANAGER: ALL},
        "change": {Role.AGREEMENT_MANAGER: ALL},
    },
)

access.register(
    VendorLink,
    rules={
        "view": {Role.AGREEMENT_MANAGER: ALL, Role.SERVICE_DESK_AGENT: ALL},
        "send": {Role.SERVICE_DESK_AGENT: ALL},
        "retry": {Role.SERVICE_DESK_AGENT: ALL},
    },
    actions=("send", "retry"),
)

access.register(InboxEvent, rules={"create": {Role.VENDOR_INTEGRATION: ALL}}, agency_field=None)
access.register_internal(OutboxMessage)
access.register_internal(ReconciliationRun)
access.register_internal(HealthAlert)
access.register_internal(EmailRecord)
access.register_internal(RoutingVersion)
