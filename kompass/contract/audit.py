"""The contract app's audit registrations (autodiscovered): a requirement's full history comes from here.

Reverse relations are left out (they are audited on their own objects), as core does.
"""

from auditlog.registry import auditlog

from kompass.contract.models import Contract, Evidence, Milestone, Requirement, RequirementComment

auditlog.register(
    Contract,
    m2m_fields={"vendor_representatives"},
    exclude_fields=["created", "updated", "milestones", "requirements"],
)
auditlog.register(Milestone, exclude_fields=["requirements"])
auditlog.register(Requirement, exclude_fields=["created", "updated", "evidence", "comments"])
auditlog.register(Evidence)
auditlog.register(RequirementComment)
