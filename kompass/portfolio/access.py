"""The portfolio's rows of the access matrix (autodiscovered).

Per agency: an agency's roles see the agency's systems (profiles, infrastructure, transformation) and
every integration that touches one of them (``Integration.agencies``); the agreement managers and the
service desk see everything. Requesting and reviewing integrations are actions on the *system* of the
side acting (``request_integration``, ``review_integration`` on its profile), so the providing side's
data owner reviews and nobody else; an external provider's integrations are reviewed centrally.
"""

from kompass.core import access
from kompass.core.access import AGENCY, ALL
from kompass.core.roles import Role
from kompass.portfolio.models import (
    DataSet,
    ExternalParty,
    GovernanceDecision,
    InfrastructureItem,
    Integration,
    MigrationWave,
    SystemProfile,
    Transformation,
)

_SEE_EVERY_AGENCY = {Role.AGREEMENT_MANAGER: ALL, Role.SERVICE_DESK_AGENT: ALL}
_SEE_OWN_AGENCIES = {
    Role.KEY_ACCOUNT_MANAGER: AGENCY,
    Role.AGENCY_IT_CONTACT: AGENCY,
    Role.SYSTEM_OWNER: AGENCY,
    Role.AGENCY_ADMIN: AGENCY,
}
_SEE = {**_SEE_EVERY_AGENCY, **_SEE_OWN_AGENCIES}
#: Who maintains an agency's portfolio facts: the central agreement managers, the agency's
#: administrators and its system owners.
_MAINTAIN = {Role.AGREEMENT_MANAGER: ALL, Role.AGENCY_ADMIN: AGENCY, Role.SYSTEM_OWNER: AGENCY}
_CENTRAL = {Role.AGREEMENT_MANAGER: ALL}

access.register(
    SystemProfile,
    rules={
        "view": _SEE,
        "create": _MAINTAIN,
        "change": _MAINTAIN,
        "delete": {Role.AGREEMENT_MANAGER: ALL, Role.AGENCY_ADMIN: AGENCY},
        "request_integration": _MAINTAIN,
        # The data owner on the providing side: the system's owners and the agency's administrators.
        "review_integration": {Role.AGENCY_ADMIN: AGENCY, Role.SYSTEM_OWNER: AGENCY},
    },
    actions=("request_integration", "review_integration"),
)

access.register(
    InfrastructureItem,
    rules={"view": _SEE, "create": _MAINTAIN, "change": _MAINTAIN, "delete": _MAINTAIN},
)

access.register(
    ExternalParty,
    rules={"view": _SEE, "create": _CENTRAL, "change": _CENTRAL, "delete": _CENTRAL},
)

access.register(
    DataSet,
    rules={"view": _SEE, "create": _CENTRAL, "change": _CENTRAL, "delete": _CENTRAL},
)

access.register(
    Integration,
    rules={
        "view": _SEE,
        # Creating is requesting (services.request_integration checks request_integration on a side's system).
        "create": _MAINTAIN,
        "change": _MAINTAIN,
        # An integration with a history is retired, never deleted; administrators only.
        "review_external": _CENTRAL,
    },
    actions=("review_external",),
)

# Decisions are written only by the governance services; nobody edits or deletes one.
access.register(GovernanceDecision, rules={"view": _SEE})

access.register(
    MigrationWave,
    rules={"view": _SEE, "create": _CENTRAL, "change": _CENTRAL, "delete": _CENTRAL},
)

access.register(
    Transformation,
    rules={"view": _SEE, "create": _MAINTAIN, "change": _MAINTAIN},
)
