"""The cases app's audit registrations (autodiscovered). Notes are audited as staff-only rows of their own."""

from auditlog.registry import auditlog

from kompass.cases.models import Case

auditlog.register(
    Case,
    m2m_fields={"watchers"},
    exclude_fields=[
        "updated",
        "sla_response",
        "sla_resolution",
        "sla_history",
        "sla_next_check",
        "response_due",
        "resolution_due",
        "resolution_warning",
        "sla_state",
    ],
)
