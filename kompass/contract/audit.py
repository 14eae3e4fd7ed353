"""The contract app's audit registrations (autodiscovered): a requirement's full history comes from here."""

from auditlog.registry import auditlog

from kompass.contract.models import Contract, Evidence, Milestone, Requirement, RequirementComment

auditlog.register(Contract, m2m_fields={"vendor_representatives"}, exclude_fields=["created", "updated"])
auditlog.register(Milestone)
auditlog.register(Requirement, exclude_fields=["created", "updated"])
auditlog.register(Evidence)
auditlog.register(RequirementComment)
