"""The contract app's rows of the access matrix (autodiscovered).

The agreement manager runs the register. A vendor representative reaches only the contracts that name them
in ``Contract.vendor_representatives`` and what hangs off those: they may move a requirement along
(``progress``: not started, in progress, ready for verification), add evidence and comment, never verify or
approve (``verify``), and see no agency data or cases (no rows anywhere else in the matrix).
"""

from kompass.contract.models import (
    REPRESENTATIVES,
    ApprovalProtocol,
    Contract,
    Evidence,
    Milestone,
    ProtocolApproval,
    ProtocolEntry,
    Requirement,
    RequirementComment,
)
from kompass.core import access
from kompass.core.access import ALL, own
from kompass.core.roles import Role

AM, VR = Role.AGREEMENT_MANAGER, Role.VENDOR_REPRESENTATIVE

access.register(
    Contract,
    rules={
        "view": {AM: ALL, VR: own(REPRESENTATIVES)},
        "create": {AM: ALL},
        "change": {AM: ALL},
        "import": {AM: ALL},
    },
    actions=("import",),
)
access.register(
    Milestone,
    rules={
        "view": {AM: ALL, VR: own(f"contract__{REPRESENTATIVES}")},
        "create": {AM: ALL},
        "change": {AM: ALL},
        "delete": {AM: ALL},
    },
)
access.register(
    Requirement,
    rules={
        "view": {AM: ALL, VR: own(f"contract__{REPRESENTATIVES}")},
        "create": {AM: ALL},
        "change": {AM: ALL},
        "progress": {AM: ALL, VR: own(f"contract__{REPRESENTATIVES}")},
        "verify": {AM: ALL},
    },
    actions=("progress", "verify"),
)
access.register(
    Evidence,
    rules={
        "view": {AM: ALL, VR: own(f"requirement__contract__{REPRESENTATIVES}")},
        "create": {AM: ALL, VR: own(f"requirement__contract__{REPRESENTATIVES}")},
        "delete": {AM: ALL},
    },
)
access.register(
    RequirementComment,
    rules={
        "view": {AM: ALL, VR: own(f"requirement__contract__{REPRESENTATIVES}")},
        "create": {AM: ALL, VR: own(f"requirement__contract__{REPRESENTATIVES}")},
    },
)

_VIA_PROTOCOL = f"protocol__contract__{REPRESENTATIVES}"
access.register(
    ApprovalProtocol,
    rules={
        "view": {AM: ALL, VR: own(f"contract__{REPRESENTATIVES}")},
        "create": {AM: ALL},
        # Each party approves for itself (kompass.contract.protocol.party_for); a signed protocol never changes.
        "approve": {AM: ALL, VR: own(f"contract__{REPRESENTATIVES}")},
    },
    actions=("approve",),
)
access.register(ProtocolApproval, rules={"view": {AM: ALL, VR: own(_VIA_PROTOCOL)}})
access.register(ProtocolEntry, rules={"view": {AM: ALL, VR: own(_VIA_PROTOCOL)}})
