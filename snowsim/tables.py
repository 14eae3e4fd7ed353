"""Table and field definitions for snowsim.

Every table is a real SQLite table whose columns are TEXT (all ServiceNow values travel as
strings). Journal fields (``journal_input``/``journal_list``) have no column: their content
lives in ``sys_journal_field``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Field",
    "Table",
    "TABLES",
    "PRIORITY_MATRIX",
    "INCIDENT_CLOSE_CODES",
    "JOURNAL_LABELS",
    "get_table",
]

# Field types
STRING, INTEGER, CHOICE, REFERENCE = "string", "integer", "choice", "reference"
DATETIME, BOOLEAN = "datetime", "boolean"
JOURNAL_INPUT, JOURNAL_LIST, GUID = "journal_input", "journal_list", "GUID"

JOURNAL_LABELS = {"comments": "Additional comments", "work_notes": "Work notes"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str = STRING
    label: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    reference: str | None = None
    default: str = ""
    numeric: bool = False  # integer storage: numeric comparison and ordering
    read_only: bool = False
    indexed: bool = False

    @property
    def stored(self) -> bool:
        return self.type not in (JOURNAL_INPUT, JOURNAL_LIST)

    @property
    def is_numeric(self) -> bool:
        return self.numeric or self.type == INTEGER

    def choice_label(self, value: str) -> str:
        for v, label in self.choices:
            if v == value:
                return label
        return value

    def choice_value(self, label: str) -> str | None:
        for v, lab in self.choices:
            if lab.lower() == label.lower():
                return v
        return None


@dataclass
class Table:
    name: str
    label: str
    fields: dict[str, Field] = field(default_factory=dict)
    display_field: str = "name"
    number_prefix: str | None = None
    number_start: int = 10001
    itsm: bool = False  # ITSM data: readable/writable by itil, invisible to users without roles

    def field_names(self) -> list[str]:
        return list(self.fields)

    def stored_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.stored]


def _sys_fields(journal_only: bool = False) -> list[Field]:
    out = [
        Field("sys_id", GUID, "Sys ID", read_only=True),
        Field("sys_created_on", DATETIME, "Created", read_only=True, indexed=True),
        Field("sys_created_by", STRING, "Created by", read_only=True),
    ]
    if not journal_only:
        out += [
            Field("sys_updated_on", DATETIME, "Updated", read_only=True, indexed=True),
            Field("sys_updated_by", STRING, "Updated by", read_only=True),
            Field("sys_mod_count", INTEGER, "Updates", read_only=True, default="0"),
            Field("sys_tags", STRING, "Tags", read_only=True),
        ]
    return out


def _make(name: str, label: str, fields: list[Field], *, journal_only_sys: bool = False, **kw) -> Table:
    t = Table(name, label, **kw)
    for f in _sys_fields(journal_only_sys) + fields:
        t.fields[f.name] = f
    return t


INCIDENT_STATES = (
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
)
HOLD_REASONS = (("1", "Awaiting Caller"), ("3", "Awaiting Problem"), ("4", "Awaiting Vendor"), ("5", "Awaiting Change"))
IMPACT = (("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low"))
URGENCY = IMPACT
PRIORITY = (("1", "1 - Critical"), ("2", "2 - High"), ("3", "3 - Moderate"), ("4", "4 - Low"), ("5", "5 - Planning"))
PRIORITY_MATRIX = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("1", "3"): "3",
    ("2", "1"): "2",
    ("2", "2"): "3",
    ("2", "3"): "4",
    ("3", "1"): "3",
    ("3", "2"): "4",
    ("3", "3"): "5",
}  # (impact, urgency) -> priority
LEGACY_CLOSE_CODES = (
    "Solved (Work Around)",
    "Solved (Permanently)",
    "Solved Remotely (Work Around)",
    "Solved Remotely (Permanently)",
    "Not Solved (Not Reproducible)",
    "Not Solved (Too Costly)",
    "Closed/Resolved by Caller",
)
CURRENT_CLOSE_CODES = (
    "Duplicate",
    "Known error",
    "No resolution provided",
    "Resolved by caller",
    "Resolved by change",
    "Resolved by problem",
    "Resolved by request",
    "Solution provided",
    "Workaround provided",
    "User error",
)
INCIDENT_CLOSE_CODES = tuple((c, c) for c in LEGACY_CLOSE_CODES + CURRENT_CLOSE_CODES)
CATEGORIES = (
    ("inquiry", "Inquiry / Help"),
    ("software", "Software"),
    ("hardware", "Hardware"),
    ("network", "Network"),
    ("database", "Database"),
)
SUBCATEGORIES = (
    ("antivirus", "Antivirus"),
    ("email", "Email"),
    ("internal application", "Internal Application"),
    ("os", "Operating System"),
    ("cpu", "CPU"),
    ("disk", "Disk"),
    ("keyboard", "Keyboard"),
    ("memory", "Memory"),
    ("monitor", "Monitor"),
    ("mouse", "Mouse"),
    ("dhcp", "DHCP"),
    ("dns", "DNS"),
    ("ip address", "IP Address"),
    ("vpn", "VPN"),
    ("wireless", "Wireless"),
    ("db2", "DB2"),
    ("ms sql server", "MS SQL Server"),
    ("oracle", "Oracle"),
)
CONTACT_TYPES = (
    ("email", "Email"),
    ("phone", "Phone"),
    ("self-service", "Self-service"),
    ("walk-in", "Walk-in"),
    ("virtual_agent", "Virtual Agent"),
    ("chat", "Chat"),
)


def _task_common() -> list[Field]:
    return [
        Field("number", STRING, "Number", indexed=True),
        Field("short_description", STRING, "Short description"),
        Field("description", STRING, "Description"),
        Field("active", BOOLEAN, "Active", default="true"),
        Field("opened_at", DATETIME, "Opened"),
        Field("opened_by", REFERENCE, "Opened by", reference="sys_user"),
        Field("assigned_to", REFERENCE, "Assigned to", reference="sys_user"),
        Field("assignment_group", REFERENCE, "Assignment group", reference="sys_user_group"),
        Field("closed_at", DATETIME, "Closed"),
        Field("closed_by", REFERENCE, "Closed by", reference="sys_user"),
        Field("correlation_id", STRING, "Correlation ID", indexed=True),
        Field("correlation_display", STRING, "Correlation display"),
        Field("comments", JOURNAL_INPUT, "Additional comments"),
        Field("work_notes", JOURNAL_INPUT, "Work notes"),
        Field("comments_and_work_notes", JOURNAL_LIST, "Comments and Work notes"),
    ]


INCIDENT = _make(
    "incident",
    "Incident",
    _task_common()
    + [
        Field("caller_id", REFERENCE, "Caller", reference="sys_user"),
        Field("state", CHOICE, "State", INCIDENT_STATES, default="1", numeric=True, indexed=True),
        Field("incident_state", CHOICE, "Incident state", INCIDENT_STATES, default="1", numeric=True),
        Field("hold_reason", CHOICE, "On hold reason", HOLD_REASONS, numeric=True),
        Field("impact", CHOICE, "Impact", IMPACT, default="3", numeric=True),
        Field("urgency", CHOICE, "Urgency", URGENCY, default="3", numeric=True),
        Field("priority", CHOICE, "Priority", PRIORITY, default="5", numeric=True),
        Field("category", CHOICE, "Category", CATEGORIES, default="inquiry"),
        Field("subcategory", CHOICE, "Subcategory", SUBCATEGORIES),
        Field("contact_type", CHOICE, "Channel", CONTACT_TYPES),
        Field("close_code", CHOICE, "Resolution code", INCIDENT_CLOSE_CODES),
        Field("close_notes", STRING, "Resolution notes"),
        Field("resolved_at", DATETIME, "Resolved"),
        Field("resolved_by", REFERENCE, "Resolved by", reference="sys_user"),
        Field("cmdb_ci", REFERENCE, "Configuration item", reference="cmdb_ci"),
        Field("business_service", REFERENCE, "Service", reference="cmdb_ci_service"),
        Field("reopen_count", INTEGER, "Reopen count", default="0"),
    ],
    display_field="number",
    number_prefix="INC",
    itsm=True,
)

RITM_STATES = (
    ("-5", "Pending"),
    ("1", "Open"),
    ("2", "Work in Progress"),
    ("3", "Closed Complete"),
    ("4", "Closed Incomplete"),
    ("7", "Closed Skipped"),
)
RITM_STAGES = (
    ("waiting_for_approval", "Waiting for Approval"),
    ("request_approved", "Request Approved"),
    ("fulfillment", "Fulfillment"),
    ("delivery", "Delivery"),
    ("complete", "Completed"),
    ("Request Cancelled", "Request Cancelled"),
)
SC_REQ_ITEM = _make(
    "sc_req_item",
    "Requested Item",
    _task_common()
    + [
        Field("state", CHOICE, "State", RITM_STATES, default="1", numeric=True, indexed=True),
        Field("stage", CHOICE, "Stage", RITM_STAGES, default="request_approved"),
        Field(
            "approval",
            CHOICE,
            "Approval",
            (
                ("not requested", "Not Yet Requested"),
                ("requested", "Requested"),
                ("approved", "Approved"),
                ("rejected", "Rejected"),
            ),
            default="approved",
        ),
        Field("request", REFERENCE, "Request", reference="sc_request"),
        Field("cat_item", REFERENCE, "Item", reference="sc_cat_item"),
        Field("requested_for", REFERENCE, "Requested for", reference="sys_user"),
        Field("quantity", INTEGER, "Quantity", default="1"),
        Field("due_date", DATETIME, "Due date"),
    ],
    display_field="number",
    number_prefix="RITM",
    itsm=True,
)

SC_REQUEST = _make(
    "sc_request",
    "Request",
    _task_common()
    + [
        Field("requested_for", REFERENCE, "Requested for", reference="sys_user"),
        Field(
            "request_state",
            CHOICE,
            "Request state",
            (
                ("requested", "Pending Approval"),
                ("in_process", "Approved"),
                ("closed_complete", "Closed Complete"),
                ("closed_incomplete", "Closed Incomplete"),
            ),
            default="in_process",
        ),
    ],
    display_field="number",
    number_prefix="REQ",
    itsm=True,
)

CHANGE_STATES = (
    ("-5", "New"),
    ("-4", "Assess"),
    ("-3", "Authorize"),
    ("-2", "Scheduled"),
    ("-1", "Implement"),
    ("0", "Review"),
    ("3", "Closed"),
    ("4", "Canceled"),
)
CHANGE_REQUEST = _make(
    "change_request",
    "Change Request",
    _task_common()
    + [
        Field(
            "type",
            CHOICE,
            "Type",
            (("standard", "Standard"), ("normal", "Normal"), ("emergency", "Emergency")),
            default="normal",
        ),
        Field("state", CHOICE, "State", CHANGE_STATES, default="-5", numeric=True, indexed=True),
        Field(
            "risk",
            CHOICE,
            "Risk",
            (("1", "Very High"), ("2", "High"), ("3", "Moderate"), ("4", "Low")),
            default="3",
            numeric=True,
        ),
        Field("impact", CHOICE, "Impact", IMPACT, default="3", numeric=True),
        Field("urgency", CHOICE, "Urgency", URGENCY, default="3", numeric=True),
        Field("priority", CHOICE, "Priority", PRIORITY, default="4", numeric=True),
        Field("requested_by", REFERENCE, "Requested by", reference="sys_user"),
        Field("cmdb_ci", REFERENCE, "Configuration item", reference="cmdb_ci"),
        Field("start_date", DATETIME, "Planned start date"),
        Field("end_date", DATETIME, "Planned end date"),
        Field(
            "close_code",
            CHOICE,
            "Close code",
            (
                ("successful", "Successful"),
                ("successful_issues", "Successful with issues"),
                ("unsuccessful", "Unsuccessful"),
            ),
        ),
        Field("close_notes", STRING, "Close notes"),
    ],
    display_field="number",
    number_prefix="CHG",
    number_start=30001,
    itsm=True,
)

SYS_USER = _make(
    "sys_user",
    "User",
    [
        Field("user_name", STRING, "User ID", indexed=True),
        Field("first_name", STRING, "First name"),
        Field("last_name", STRING, "Last name"),
        Field("name", STRING, "Name"),
        Field("email", STRING, "Email"),
        Field("title", STRING, "Title"),
        Field("phone", STRING, "Business phone"),
        Field("active", BOOLEAN, "Active", default="true"),
        Field("locked_out", BOOLEAN, "Locked out", default="false"),
        Field("roles", STRING, "Roles"),
        Field("time_zone", STRING, "Time zone", default="GMT"),
        Field("department", STRING, "Department"),
    ],
)

SYS_USER_GROUP = _make(
    "sys_user_group",
    "Group",
    [
        Field("name", STRING, "Name", indexed=True),
        Field("description", STRING, "Description"),
        Field("email", STRING, "Group email"),
        Field("manager", REFERENCE, "Manager", reference="sys_user"),
        Field("type", STRING, "Type"),
        Field("active", BOOLEAN, "Active", default="true"),
    ],
)

SYS_USER_GRMEMBER = _make(
    "sys_user_grmember",
    "Group Member",
    [
        Field("user", REFERENCE, "User", reference="sys_user"),
        Field("group", REFERENCE, "Group", reference="sys_user_group"),
    ],
    display_field="sys_id",
)

SYS_JOURNAL_FIELD = _make(
    "sys_journal_field",
    "Journal Entry",
    [
        Field("element", STRING, "Element"),
        Field("element_id", STRING, "Element ID", indexed=True),
        Field("name", STRING, "Table name"),
        Field("value", STRING, "Value"),
    ],
    journal_only_sys=True,
    display_field="sys_id",
)

SYS_ATTACHMENT = _make(
    "sys_attachment",
    "Attachment",
    [
        Field("file_name", STRING, "File name"),
        Field("content_type", STRING, "Content type"),
        Field("size_bytes", INTEGER, "Size bytes"),
        Field("size_compressed", INTEGER, "Size compressed"),
        Field("compressed", BOOLEAN, "Compressed", default="true"),
        Field("table_name", STRING, "Table name", indexed=True),
        Field("table_sys_id", STRING, "Table sys ID", indexed=True),
        Field("image_width", STRING, "Image width"),
        Field("image_height", STRING, "Image height"),
        Field("average_image_color", STRING, "Average image color"),
        Field("hash", STRING, "Hash"),
        Field("state", STRING, "State", default="available"),
    ],
    display_field="file_name",
)

SYS_CHOICE = _make(
    "sys_choice",
    "Choices",
    [
        Field("name", STRING, "Table", indexed=True),
        Field("element", STRING, "Element"),
        Field("value", STRING, "Value"),
        Field("label", STRING, "Label"),
        Field("sequence", INTEGER, "Sequence"),
        Field("language", STRING, "Language", default="en"),
        Field("inactive", BOOLEAN, "Inactive", default="false"),
        Field("dependent_value", STRING, "Dependent value"),
    ],
    display_field="label",
)


def _ci_fields(class_name: str) -> list[Field]:
    """The fields every configuration item shares; ``sys_class_name`` defaults to its own table."""
    return [
        Field("name", STRING, "Name"),
        Field("sys_class_name", STRING, "Class", default=class_name),
        Field(
            "operational_status",
            CHOICE,
            "Operational status",
            (("1", "Operational"), ("2", "Non-Operational")),
            default="1",
            numeric=True,
        ),
    ]


CMDB_CI = _make("cmdb_ci", "Configuration Item", _ci_fields("cmdb_ci"))

CMDB_CI_SERVICE = _make("cmdb_ci_service", "Business Service", _ci_fields("cmdb_ci_service"))

SC_CAT_ITEM = _make(
    "sc_cat_item",
    "Catalog Item",
    [
        Field("name", STRING, "Name"),
        Field("short_description", STRING, "Short description"),
        Field("active", BOOLEAN, "Active", default="true"),
    ],
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        INCIDENT,
        SC_REQ_ITEM,
        SC_REQUEST,
        CHANGE_REQUEST,
        SYS_USER,
        SYS_USER_GROUP,
        SYS_USER_GRMEMBER,
        SYS_JOURNAL_FIELD,
        SYS_ATTACHMENT,
        SYS_CHOICE,
        CMDB_CI,
        CMDB_CI_SERVICE,
        SC_CAT_ITEM,
    )
}


def get_table(name: str) -> Table | None:
    return TABLES.get(name)


def choice_rows() -> list[dict[str, str]]:
    """sys_choice rows for every choice field of every table (clients read these instead of hard-coding)."""
    rows = []
    for t in TABLES.values():
        if t.name == "sys_choice":
            continue
        for f in t.fields.values():
            if f.type != CHOICE:
                continue
            for seq, (value, label) in enumerate(f.choices, start=1):
                rows.append(
                    {
                        "name": t.name,
                        "element": f.name,
                        "value": value,
                        "label": label,
                        "sequence": str(seq),
                        "language": "en",
                        "inactive": "false",
                    }
                )
    return rows
