"""The cases app's rows of the permission matrix (issue #8, item 4), written out role by role.

* Requesters see, and reply on, the cases they requested or watch; they confirm or reject a resolution, withdraw,
  reopen and rate their own (``respond``, ``rate``).
* IT main contacts and agency administrators see and act on all their agency's cases (create, change, reply,
  respond), system owners see their agency's cases about the systems they own (and, as requesters, their own),
  key account managers read and comment on their agencies' cases.
* Service desk agents see and work every case (``work``: states, assignment, priority, links, notes).
* Agreement managers read everything, internal notes included.
* **Internal notes** (``Note``) name no agency role and no requester: no page, endpoint, e-mail or export that
  reads through ``Note.objects.restrict()`` can show one to them. ``CaseChange`` rows of notes are marked
  ``internal`` and left out of the timeline for the same people (``timeline.py``); the search (``search.py``) reads
  their words only for those who may view the notes.
* **Saved filters** of the queue belong to their owner; those shared with a team are seen by the service desk.
"""

from kompass.cases.models import (
    Attachment,
    Case,
    CaseChange,
    CaseCounter,
    CaseSearch,
    IntakeRecord,
    Note,
    Reply,
    SavedFilter,
)
from kompass.core import access
from kompass.core.access import AGENCY, ALL, own
from kompass.core.roles import Role

_REQUESTER_OWN = own("requester", "watchers")
_ENTRY_REQUESTER_OWN = own("case__requester", "case__watchers")

#: Who sees a case's public replies, attachments and change rows: whoever sees the case itself.
_SEES_THE_CASE = {
    Role.AGREEMENT_MANAGER: ALL,
    Role.SERVICE_DESK_AGENT: ALL,
    Role.KEY_ACCOUNT_MANAGER: AGENCY,
    Role.AGENCY_IT_CONTACT: AGENCY,
    Role.AGENCY_ADMIN: AGENCY,
    Role.SYSTEM_OWNER: own("case__system__system_owner"),
    access.REQUESTER: _ENTRY_REQUESTER_OWN,
}

access.register(
    Case,
    rules={
        "view": {
            Role.AGREEMENT_MANAGER: ALL,
            Role.SERVICE_DESK_AGENT: ALL,
            Role.KEY_ACCOUNT_MANAGER: AGENCY,
            Role.AGENCY_IT_CONTACT: AGENCY,
            Role.AGENCY_ADMIN: AGENCY,
            Role.SYSTEM_OWNER: own("system__system_owner"),
            access.REQUESTER: _REQUESTER_OWN,
        },
        "create": {
            Role.SERVICE_DESK_AGENT: ALL,
            Role.AGENCY_IT_CONTACT: AGENCY,
            Role.AGENCY_ADMIN: AGENCY,
            access.REQUESTER: AGENCY,
        },
        # Title, description, category and watchers.
        "change": {
            Role.SERVICE_DESK_AGENT: ALL,
            Role.AGENCY_IT_CONTACT: AGENCY,
            Role.AGENCY_ADMIN: AGENCY,
        },
        "work": {Role.SERVICE_DESK_AGENT: ALL},
        "respond": {
            Role.AGENCY_IT_CONTACT: AGENCY,
            Role.AGENCY_ADMIN: AGENCY,
            access.REQUESTER: own("requester"),
        },
        "rate": {access.REQUESTER: own("requester")},
    },
    actions=("work", "respond", "rate"),
)

# Public replies: everyone who sees the case reads them; those who may comment write them.
access.register(
    Reply,
    rules={
        "view": _SEES_THE_CASE,
        "create": {
            Role.SERVICE_DESK_AGENT: ALL,
            Role.KEY_ACCOUNT_MANAGER: AGENCY,
            Role.AGENCY_IT_CONTACT: AGENCY,
            Role.AGENCY_ADMIN: AGENCY,
            Role.SYSTEM_OWNER: own("case__system__system_owner"),
            access.REQUESTER: _ENTRY_REQUESTER_OWN,
        },
    },
)

# Internal notes: the service desk writes them, agreement managers read them; no agency role, no requester.
access.register(
    Note,
    rules={
        "view": {Role.AGREEMENT_MANAGER: ALL, Role.SERVICE_DESK_AGENT: ALL},
        "create": {Role.SERVICE_DESK_AGENT: ALL},
    },
)

# Attachments (of a case or a public reply) are seen with the case; they are added through the case.
access.register(
    Attachment,
    rules={
        "view": _SEES_THE_CASE,
    },
)

# The change rows behind the timeline; rows of internal notes are filtered out by timeline.py for those who
# may not view notes.
access.register(
    CaseChange,
    rules={
        "view": _SEES_THE_CASE,
    },
)

access.register_internal(CaseCounter)
# The e-mail intake's bookkeeping (Message-IDs, refusals, failures): administrators only.
access.register_internal(IntakeRecord)


# The search documents hold internal notes: only kompass.cases.search reads them, and it applies the Note rules.
access.register_internal(CaseSearch)

#: Everyone who sees cases beyond the portal keeps their own saved queue filters.
_OWNER = own("owner")

# Saved queue filters: one's own, read and deleted by oneself. Service desk agents also see the ones shared
# with a team (``SavedFilter.team``); ``views.saved_filters_for`` adds that condition to the rows below.
access.register(
    SavedFilter,
    rules={
        "view": {
            Role.AGREEMENT_MANAGER: _OWNER,
            Role.SERVICE_DESK_AGENT: ALL,
            Role.KEY_ACCOUNT_MANAGER: _OWNER,
            Role.AGENCY_IT_CONTACT: _OWNER,
            Role.AGENCY_ADMIN: _OWNER,
            Role.SYSTEM_OWNER: _OWNER,
        },
        "create": {
            Role.AGREEMENT_MANAGER: ALL,
            Role.SERVICE_DESK_AGENT: ALL,
            Role.KEY_ACCOUNT_MANAGER: ALL,
            Role.AGENCY_IT_CONTACT: ALL,
            Role.AGENCY_ADMIN: ALL,
            Role.SYSTEM_OWNER: ALL,
        },
        "delete": {
            Role.AGREEMENT_MANAGER: _OWNER,
            Role.SERVICE_DESK_AGENT: _OWNER,
            Role.KEY_ACCOUNT_MANAGER: _OWNER,
            Role.AGENCY_IT_CONTACT: _OWNER,
            Role.AGENCY_ADMIN: _OWNER,
            Role.SYSTEM_OWNER: _OWNER,
        },
    },
    agency_field=None,
)
