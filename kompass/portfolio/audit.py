"""The portfolio's audit registrations (autodiscovered): every change and every governance decision.

As in core, only the models' own fields are recorded (reverse relations are audited on their own objects).
"""

from auditlog.registry import auditlog

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

auditlog.register(SystemProfile, exclude_fields=["updated"])
auditlog.register(InfrastructureItem)
auditlog.register(ExternalParty, exclude_fields=["provided_integrations", "consumed_integrations"])
auditlog.register(DataSet, exclude_fields=["integrations"])
auditlog.register(
    Integration,
    m2m_fields={"data_sets"},
    exclude_fields=["agencies", "decisions", "superseded_by", "created", "updated"],
)
auditlog.register(GovernanceDecision)
auditlog.register(MigrationWave, exclude_fields=["transformations"])
auditlog.register(Transformation, exclude_fields=["updated"])
