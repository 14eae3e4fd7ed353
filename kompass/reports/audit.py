"""The reports app's audit registrations (autodiscovered): every definition, input and statement change."""

from auditlog.registry import auditlog

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

auditlog.register(LevelVersion, exclude_fields=["case_levels", "availability_levels"])
auditlog.register(CaseLevel)
auditlog.register(AvailabilityLevel)
auditlog.register(Outage)
auditlog.register(Exclusion)
auditlog.register(Statement, exclude_fields=["inputs", "computed", "lines", "adjustment_rows"])
auditlog.register(StatementLine, exclude_fields=["disputes"])
auditlog.register(Adjustment)
auditlog.register(Dispute)
auditlog.register(MonthlyReport, exclude_fields=["figures"])
