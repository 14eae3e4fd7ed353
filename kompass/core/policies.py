"""Core's rows of the access matrix (``kompass.core.access`` is the engine; other apps use ``<app>/access.py``).

The table is written out role by role on purpose: it is the contract ``docs/access.md`` shows and the
access tests check cell by cell.
"""

from kompass.core import access
from kompass.core.access import AGENCY, ALL
from kompass.core.imports.models import ImportBatch
from kompass.core.models import (
    Agency,
    ApiToken,
    Heartbeat,
    NotificationPreference,
    Organisation,
    RoleAssignment,
    ScheduledJob,
    SchedulerLease,
    Service,
    System,
    User,
)
from kompass.core.roles import Role

#: The roles that see every agency, and those that see the agencies they hold.
_SEE_EVERY_AGENCY = {Role.AGREEMENT_MANAGER: ALL, Role.SERVICE_DESK_AGENT: ALL}
_SEE_OWN_AGENCIES = {
    Role.KEY_ACCOUNT_MANAGER: AGENCY,
    Role.AGENCY_IT_CONTACT: AGENCY,
    Role.SYSTEM_OWNER: AGENCY,
    Role.AGENCY_ADMIN: AGENCY,
}

access.register(
    Agency,
    rules={
        "view": {**_SEE_EVERY_AGENCY, **_SEE_OWN_AGENCIES},
        "create": {Role.AGREEMENT_MANAGER: ALL},
        "change": {Role.AGREEMENT_MANAGER: ALL, Role.AGENCY_ADMIN: AGENCY},
        "delete": {Role.AGREEMENT_MANAGER: ALL},
    },
)

access.register(
    System,
    rules={
        "view": {**_SEE_EVERY_AGENCY, **_SEE_OWN_AGENCIES},
        "create": {Role.AGREEMENT_MANAGER: ALL, Role.AGENCY_ADMIN: AGENCY},
        "change": {Role.AGREEMENT_MANAGER: ALL, Role.AGENCY_ADMIN: AGENCY},
        "delete": {Role.AGREEMENT_MANAGER: ALL, Role.AGENCY_ADMIN: AGENCY},
    },
)

# The catalogue is shared: every role that works with agencies reads it; only central editors change it.
access.register(
    Service,
    rules={
        "view": {**_SEE_EVERY_AGENCY, **_SEE_OWN_AGENCIES},
        "create": {Role.AGREEMENT_MANAGER: ALL},
        "change": {Role.AGREEMENT_MANAGER: ALL},
        "delete": {Role.AGREEMENT_MANAGER: ALL},
    },
)

# People: "view" is who appears in pickers and contact lists (people of the agencies one sees);
# "manage" is the user administration (administrators only: no role is listed).
access.register(
    User,
    rules={"view": {**_SEE_EVERY_AGENCY, **_SEE_OWN_AGENCIES}},
    actions=("manage",),
)

# Role assignments are read and changed only in the user administration (administrators); an agency's
# page lists its contacts as part of the agency.
access.register(RoleAssignment, rules={})

# The organisation row; "audit" is the organisation-wide audit log.
access.register(Organisation, rules={"audit": {Role.AGREEMENT_MANAGER: ALL}}, actions=("audit",))

access.register_internal(ApiToken)
access.register_internal(Heartbeat)
access.register_internal(NotificationPreference)  # each user edits their own through "My settings"
access.register_internal(ScheduledJob)  # the scheduler's own rows; read through /healthz and the admin
access.register_internal(SchedulerLease)
# Uploads awaiting apply: the importing app's views decide who reaches a batch (the contract or portfolio rules).
access.register_internal(ImportBatch)
