"""The reports app's rows of the access matrix (autodiscovered).

The agreement manager defines the service levels, records outages, exclusions and adjustments, builds the
statements and reports and sees everything. A key account manager reads the service levels and, on the
per-agency page, the figures of the agencies they serve (computed from the cases, not stored rows). The
contract's vendor representatives see their contract's levels, outages, exclusions, statements and reports,
accept or dispute statement lines and answer disputes; they see no agency case beyond what the report shows.
Agency roles have no access: the figures are the contract's, between the agreement manager and the vendor.
"""

from kompass.core import access
from kompass.core.access import AGENCY, ALL, own
from kompass.core.roles import Role
from kompass.reports.models import (
    REPRESENTATIVES,
    Adjustment,
    AvailabilityLevel,
    CaseLevel,
    Dispute,
    Exclusion,
    LevelVersion,
    MonthlyReport,
    Outage,
    ReportJob,
    ScorecardFigures,
    Statement,
    StatementLine,
)

AM, KAM, VR = Role.AGREEMENT_MANAGER, Role.KEY_ACCOUNT_MANAGER, Role.VENDOR_REPRESENTATIVE
_EDIT = {AM: ALL}


def _vendor(path: str) -> dict:
    return {AM: ALL, VR: own(f"{path}{REPRESENTATIVES}")}


access.register(
    LevelVersion,
    rules={"view": {**_vendor("contract__"), KAM: AGENCY}, "create": _EDIT, "change": _EDIT, "delete": _EDIT},
)
# The level rows: the vendor reads them on its version's page; the per-agency figures page asks for ``view`` here,
# so a key account manager (agencies they serve) and the agreement manager reach it, a representative does not.
for level in (CaseLevel, AvailabilityLevel):
    access.register(level, rules={"view": {AM: ALL, KAM: AGENCY}, "create": _EDIT, "change": _EDIT, "delete": _EDIT})
for model in (Outage, Exclusion):
    access.register(model, rules={"view": _vendor("contract__"), "create": _EDIT, "change": _EDIT, "delete": _EDIT})
access.register(
    Statement,
    rules={"view": _vendor("contract__"), "create": _EDIT, "change": _EDIT, "adjust": _EDIT},
    actions=("adjust",),
)
access.register(
    StatementLine,
    rules={"view": _vendor("statement__contract__"), "accept": _vendor("statement__contract__")},
    actions=("accept",),
)
access.register(
    Dispute,
    rules={
        "view": _vendor("line__statement__contract__"),
        "create": _vendor("line__statement__contract__"),
        "answer": _vendor("line__statement__contract__"),
        "resolve": _EDIT,
    },
    actions=("answer", "resolve"),
)
access.register(Adjustment, rules={"view": _vendor("statement__contract__"), "create": _EDIT})
access.register(MonthlyReport, rules={"view": _vendor("contract__"), "create": _EDIT})
access.register_internal(ReportJob)  # the worker's queue of reports to generate; the pages show its state
access.register_internal(ScorecardFigures)  # the stored scorecard figures and their recompute job (the page reads them)
