"""The contract app's audit registrations (autodiscovered): a requirement's full history comes from here.

Reverse relations are left out (they are audited on their own objects), as core does: all of them, also those
other apps add (the reports app's statements on a contract), so they are found, not listed.
"""

from auditlog.registry import auditlog

from kompass.contract.models import (
    ApprovalProtocol,
    Contract,
    Evidence,
    Milestone,
    ProtocolApproval,
    Requirement,
    RequirementComment,
)
from kompass.core.audit import reverse_relations

auditlog.register(
    Contract,
    m2m_fields={"vendor_representatives"},
    exclude_fields=[*reverse_relations(Contract), "created", "updated"],
)
auditlog.register(Milestone, exclude_fields=reverse_relations(Milestone))
auditlog.register(Requirement, exclude_fields=[*reverse_relations(Requirement), "created", "updated"])
auditlog.register(Evidence)
auditlog.register(RequirementComment)
auditlog.register(ApprovalProtocol, exclude_fields=reverse_relations(ApprovalProtocol))
auditlog.register(ProtocolApproval)
