"""The cases app's audit registrations (autodiscovered). Notes are audited as staff-only rows of their own."""

from auditlog.registry import auditlog

from kompass.cases.models import Case

#: Not audited: derived SLA fields (recomputed from the clocks) and the ``updated`` stamp.
NOT_AUDITED = {
    "updated",
    "sla_response",
    "sla_resolution",
    "sla_history",
    "sla_next_check",
    "response_due",
    "resolution_due",
    "resolution_warning",
    "sla_state",
}

# The case's own columns, named: without ``include_fields`` auditlog also diffs reverse one-to-one relations
# another app adds (the vendor link), one query per creation for a row a new case cannot have.
auditlog.register(
    Case,
    m2m_fields={"watchers"},
    include_fields=[f.name for f in Case._meta.concrete_fields if f.name not in NOT_AUDITED],
    exclude_fields=sorted(NOT_AUDITED),
)
