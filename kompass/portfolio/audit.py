"""The portfolio's audit registrations (autodiscovered): every change and every governance decision."""

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
auditlog.register(ExternalParty)
auditlog.register(DataSet)
auditlog.register(Integration, m2m_fields={"data_sets"}, exclude_fields=["agencies", "created", "updated"])
auditlog.register(GovernanceDecision)
auditlog.register(MigrationWave)
auditlog.register(Transformation, exclude_fields=["updated"])
