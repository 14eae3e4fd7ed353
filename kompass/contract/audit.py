"""The contract app's audit registrations (autodiscovered): a requirement's full history comes from here.

Reverse relations are left out (they are audited on their own objects), as core does.
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

auditlog.register(
    Contract,
    m2m_fields={"vendor_representatives"},
    exclude_fields=["created", "updated", "milestones", "requirements", "protocols"],
)
auditlog.register(Milestone, exclude_fields=["requirements"])
auditlog.register(Requirement, exclude_fields=["created", "updated", "evidence", "comments"])
auditlog.register(Evidence)
auditlog.register(RequirementComment)
auditlog.register(ApprovalProtocol, exclude_fields=["approvals", "entries"])
auditlog.register(ProtocolApproval)
