"""How Kompass values map to a ServiceNow incident's values, per connection (``VendorConnection.mapping``).

Values, never display values: choice codes and sys_ids. The defaults below hold unless the connection's
``mapping`` JSON overrides a key (an administrator edits it on the connection form)::

    {"case_to_remote": {"resolved": {"state": "6", "close_code": "Solved (Permanently)"}},
     "hold_to_case": {"1": "waiting_requester", "4": "waiting_vendor"}}

Kompass case states (``kompass.cases``): new, in_progress, waiting_requester, waiting_vendor, resolved,
closed, cancelled. ServiceNow incident states: 1 New, 2 In Progress, 3 On Hold (``hold_reason`` 1 Awaiting
Caller), 6 Resolved, 7 Closed, 8 Canceled.
"""

from __future__ import annotations

import copy
import hashlib

#: Remote state (and for On Hold its hold reason) → the case state it means. ``None``: no change.
DEFAULTS: dict = {
    "state_to_case": {
        "1": None,  # New at the vendor: the case keeps its own state until the vendor picks it up
        "2": "in_progress",
        "3": "in_progress",  # On Hold for a reason other than the caller: still being worked
        "6": "resolved",
        "7": "closed",
        "8": "cancelled",
    },
    "hold_to_case": {"1": "waiting_requester"},  # Awaiting Caller ↔ waiting for the requester
    # Case state → the remote fields that express it. Missing: nothing is sent (closing is the vendor's:
    # its auto-close job, as the integration user has no itil_admin).
    "case_to_remote": {
        "in_progress": {"state": "2", "hold_reason": ""},
        "waiting_requester": {"state": "3", "hold_reason": "1"},
        "resolved": {"state": "6", "close_code": "Solved (Permanently)"},
        "cancelled": {"state": "8"},
    },
    # Case fields → remote fields on create.
    "create_defaults": {"contact_type": "self-service", "caller_id": ""},
    # Categories and assignment groups by value (sys_id); empty: the vendor's own triage decides.
    "category": {},
    "assignment_group": "",
}

#: The remote fields Kompass reads (``sysparm_fields``); sync decisions use only these.
RECORD_FIELDS = [
    "sys_id",
    "number",
    "state",
    "hold_reason",
    "impact",
    "urgency",
    "priority",
    "close_code",
    "close_notes",
    "correlation_id",
    "short_description",
    "assignment_group",
    "sys_mod_count",
    "sys_updated_on",
    "sys_updated_by",
]

OPEN_CASE_STATES = {"new", "in_progress", "waiting_requester", "waiting_vendor"}


class Mapping:
    """The effective mapping of one connection: its overrides on top of :data:`DEFAULTS`."""

    def __init__(self, overrides: dict | None = None):
        self.data = copy.deepcopy(DEFAULTS)
        for key, value in (overrides or {}).items():
            if isinstance(value, dict) and isinstance(self.data.get(key), dict):
                self.data[key].update(value)
            else:
                self.data[key] = value

    @classmethod
    def for_connection(cls, connection) -> Mapping:
        return cls(connection.mapping or {})

    # -- states -----------------------------------------------------------------------------
    def case_state(self, record: dict) -> str | None:
        """The case state a remote record stands for (``None``: leave the case's state alone)."""
        state = str(record.get("state", ""))
        if state == "3":
            held = self.data["hold_to_case"].get(str(record.get("hold_reason", "")))
            if held:
                return held
        return self.data["state_to_case"].get(state)

    def remote_state(self, case_state: str, *, resolution: str = "") -> dict | None:
        """The remote fields for a case state, or ``None`` when that state is not sent."""
        fields = self.data["case_to_remote"].get(case_state)
        if fields is None:
            return None
        fields = dict(fields)
        if fields.get("state") == "6":
            fields["close_notes"] = resolution or "Resolved in Kompass."
        return fields

    @staticmethod
    def state_key(record: dict) -> str:
        """The remote state as compared for echo suppression: state, the hold reason when on hold, and a digest
        of the close notes when resolved or closed (a vendor that reopens and resolves again between two reads
        leaves the state as it was, but not its notes)."""
        state = str(record.get("state", ""))
        if state == "3":
            return f"3/{record.get('hold_reason', '')}"
        if state in ("6", "7"):
            notes = (record.get("close_notes") or "").strip()
            return f"{state}:{hashlib.sha256(notes.encode()).hexdigest()[:10]}"
        return state

    # -- priority ---------------------------------------------------------------------------
    @staticmethod
    def priority_key(record: dict) -> str:
        return f"{record.get('impact', '')}/{record.get('urgency', '')}"

    @staticmethod
    def case_priority(record: dict) -> tuple[int, int] | None:
        try:
            impact, urgency = int(record.get("impact", "")), int(record.get("urgency", ""))
        except (TypeError, ValueError):
            return None
        if impact in (1, 2, 3) and urgency in (1, 2, 3):
            return impact, urgency
        return None

    # -- create -----------------------------------------------------------------------------
    def create_fields(self, case, correlation_id: str) -> dict:
        fields = {k: v for k, v in self.data["create_defaults"].items() if v != ""}
        fields.update(
            {
                "short_description": case.title[:160],
                "description": case.description or case.title,
                "impact": str(case.impact),
                "urgency": str(case.urgency),
                "correlation_id": correlation_id,
                "correlation_display": f"Kompass {case.number}",
            }
        )
        category = self.data["category"].get(case.category or "")
        if category:
            fields["category"] = category
        if self.data.get("assignment_group"):
            fields["assignment_group"] = self.data["assignment_group"]
        return fields

    @staticmethod
    def resolution_text(record: dict) -> str:
        """The vendor's resolution (close code and notes) as the case's resolution shown to the requester."""
        code, notes = (record.get("close_code") or "").strip(), (record.get("close_notes") or "").strip()
        if code and notes:
            return f"{notes}\n\n({code})"
        return notes or code or "Resolved by the vendor."


def marker(kind: str, pk: int) -> str:
    """The tag written into a journal entry so Kompass recognises its own entries (and never doubles one)."""
    return f"[kompass:{kind}:{pk}]"


MARKER_PREFIX = "[kompass:"


def strip_marker(text: str) -> str:
    index = text.rfind(MARKER_PREFIX)
    return text[:index].rstrip() if index >= 0 else text
