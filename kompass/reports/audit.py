"""The reports app's audit registrations (autodiscovered): every definition, input and statement change."""

from auditlog.registry import auditlog

from kompass.core.audit import reverse_relations
from kompass.reports.models import (
    Adjustment,
    AvailabilityLevel,
    CaseLevel,
    Dispute,
    Exclusion,
    LevelVersion,
    MonthlyReport,
    Outage,
    Statement,
    StatementLine,
)

auditlog.register(LevelVersion, exclude_fields=reverse_relations(LevelVersion))
auditlog.register(CaseLevel)
auditlog.register(AvailabilityLevel)
auditlog.register(Outage)
auditlog.register(Exclusion)
auditlog.register(Statement, exclude_fields=[*reverse_relations(Statement), "inputs", "computed"])
auditlog.register(StatementLine, exclude_fields=reverse_relations(StatementLine))
auditlog.register(Adjustment)
auditlog.register(Dispute)
auditlog.register(MonthlyReport, exclude_fields=["figures"])
