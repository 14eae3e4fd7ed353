"""The portfolio's audit registrations (autodiscovered): every change and every governance decision.

As in core, only the models' own fields are recorded: reverse relations (all of them, also those other apps add)
are audited on their own objects, so they are found with `reverse_relations()`, not listed by hand.
"""

from auditlog.registry import auditlog

from kompass.core.audit import reverse_relations
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

auditlog.register(SystemProfile, exclude_fields=[*reverse_relations(SystemProfile), "updated"])
auditlog.register(InfrastructureItem, exclude_fields=reverse_relations(InfrastructureItem))
auditlog.register(ExternalParty, exclude_fields=reverse_relations(ExternalParty))
auditlog.register(DataSet, exclude_fields=reverse_relations(DataSet))
auditlog.register(
    Integration,
    m2m_fields={"data_sets"},
    exclude_fields=[*reverse_relations(Integration), "agencies", "created", "updated"],  # agencies: derived
)
auditlog.register(GovernanceDecision, exclude_fields=reverse_relations(GovernanceDecision))
auditlog.register(MigrationWave, exclude_fields=reverse_relations(MigrationWave))
auditlog.register(Transformation, exclude_fields=[*reverse_relations(Transformation), "updated"])
