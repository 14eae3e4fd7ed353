"""Encoded query engine: parser, operators, and SQL == pure-Python reference (hypothesis)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snowsim.query import QueryContext, compile_query, evaluate, parse, q, to_sql
from snowsim.store import Store
from snowsim.tables import BOOLEAN, CHOICE, DATETIME, GUID, INTEGER, STRING, Field, Table

# --------------------------------------------------------------------------- parser


def test_parse_structure():
    query = parse("a=1^ORb=2^c=3^NQd=4^ORDERBYa^ORDERBYDESCb")
    assert len(query.segments) == 2
    first, second = query.segments
    assert [[t.raw for t in clause] for clause in first] == [["a=1", "b=2"], ["c=3"]]
    assert [[t.raw for t in clause] for clause in second] == [["d=4"]]
    assert query.order == [("a", False), ("b", True)]


def test_parse_operators_and_escapes():
    query = parse("short_descriptionNOT LIKEfoo^^bar^stateIN1,2^close_codeISEMPTY^x>=5^EQ")
    terms = [t for seg in query.segments for clause in seg for t in clause]
    assert [(t.field, t.op, t.value) for t in terms] == [
        ("short_description", "NOT LIKE", "foo^bar"),
        ("state", "IN", "1,2"),
        ("close_code", "ISEMPTY", ""),
        ("x", ">=", "5"),
    ]


def test_parse_invalid_terms_are_collected():
    query = parse("garbage^Upper=1^stateFOO3^=x")
    assert query.invalid == ["garbage", "Upper=1", "stateFOO3", "=x"]


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_parser_never_crashes(text):
    query = parse(text)
    compiled = compile_query(_INCIDENT, query, QueryContext(user_sys_id="x" * 32, now=dt.datetime(2024, 1, 1)))
    to_sql(compiled)


_SHARED_STORE = Store(None, seed=1)
_INCIDENT = __import__("snowsim.tables", fromlist=["TABLES"]).TABLES["incident"]


@given(
    st.text(alphabet=st.sampled_from(list("^=!<>@,.LIKEORNQBYDESC _abcdefghijklmnopqrstuvwxyz0123456789")), max_size=80)
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_store_query_never_raises_on_arbitrary_queries(text):
    _SHARED_STORE.query("incident", text, limit=5)
    _SHARED_STORE.query("incident", text, limit=5, invalid_no_rows=True)


# --------------------------------------------------------------------------- operators through the store


@pytest.fixture
def populated(store):
    beth = store.sid("sys_user", "beth.anglin")
    rows = [
        {
            "short_description": "Printer on fire",
            "impact": "1",
            "urgency": "1",
            "caller_id": beth,
            "correlation_id": "K-1",
            "description": "Printer",
        },
        {"short_description": "Email is slow", "impact": "2", "urgency": "2", "category": "software"},
        {
            "short_description": "VPN broken",
            "impact": "3",
            "urgency": "1",
            "correlation_id": "K-3",
            "description": "VPN broken",
        },
        {"short_description": "printer jam", "impact": "3", "urgency": "3", "caller_id": beth},
    ]
    ids = [store.insert("incident", r, "admin")["sys_id"] for r in rows]
    return store, ids


def _numbers(store, query, **kw):
    rows, total = store.query("incident", query, **kw)
    assert total == len(rows)
    return [r["short_description"] for r in rows]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("short_description=VPN broken", ["VPN broken"]),
        ("short_description!=VPN broken", ["Printer on fire", "Email is slow", "printer jam"]),
        ("short_descriptionLIKEprinter", ["Printer on fire", "printer jam"]),
        ("short_descriptionNOT LIKEprinter", ["Email is slow", "VPN broken"]),
        ("short_descriptionSTARTSWITHprint", ["Printer on fire", "printer jam"]),
        ("short_descriptionENDSWITHslow", ["Email is slow"]),
        ("short_descriptionCONTAINSjam", ["printer jam"]),
        ("short_descriptionDOES NOT CONTAINjam", ["Printer on fire", "Email is slow", "VPN broken"]),
        ("priorityIN1,5", ["Printer on fire", "printer jam"]),
        ("priorityNOT IN1,5", ["Email is slow", "VPN broken"]),
        ("priority<3", ["Printer on fire"]),
        ("priority<=3", ["Printer on fire", "Email is slow", "VPN broken"]),
        ("priority>3", ["printer jam"]),
        ("priority>=3", ["Email is slow", "VPN broken", "printer jam"]),
        ("priorityBETWEEN2@3", ["Email is slow", "VPN broken"]),
        ("correlation_idISEMPTY", ["Email is slow", "printer jam"]),
        ("correlation_idISNOTEMPTY", ["Printer on fire", "VPN broken"]),
        ("correlation_idANYTHING", ["Printer on fire", "Email is slow", "VPN broken", "printer jam"]),
        ("descriptionSAMEASshort_description", ["VPN broken"]),
        ("descriptionNSAMEASshort_description", ["Printer on fire", "Email is slow", "printer jam"]),
        ("caller_id.user_name=beth.anglin", ["Printer on fire", "printer jam"]),
        ("caller_id.nameSTARTSWITHBeth^priority=5", ["printer jam"]),
        ("priority=1^ORpriority=5", ["Printer on fire", "printer jam"]),
        ("priority=1^ORpriority=5^short_descriptionLIKEjam", ["printer jam"]),
        ("priority=1^NQcategory=software", ["Printer on fire", "Email is slow"]),
        (
            "priority>0^ORDERBYDESCpriority^ORDERBYnumber",
            ["printer jam", "Email is slow", "VPN broken", "Printer on fire"],
        ),
        ("ORDERBYurgency^ORDERBYDESCimpact", ["VPN broken", "Printer on fire", "Email is slow", "printer jam"]),
        ("ORDERBYshort_description", ["Email is slow", "printer jam", "Printer on fire", "VPN broken"]),  # ci
    ],
)
def test_operators(populated, query, expected):
    store, _ids = populated
    got = _numbers(store, query)
    if "ORDERBY" not in query:  # no ORDERBY: sys_id order (a primary-key scan), not insertion order
        got, expected = sorted(got), sorted(expected)
    assert got == expected


def test_integer_compare_is_numeric(store):
    for n in ("2", "10", "9"):
        store.insert("incident", {"short_description": n, "reopen_count": n}, "admin")
    assert _numbers(store, "reopen_count>3^ORDERBYreopen_count") == ["9", "10"]
    assert _numbers(store, "reopen_count>=2^ORDERBYDESCreopen_count") == ["10", "9", "2"]


def test_datetime_compare_and_javascript(store):
    store.clock = lambda: dt.datetime(2024, 5, 10, 12, 0, 0)
    store.insert("incident", {"short_description": "old", "opened_at": "2024-05-01 08:00:00"}, "admin")
    store.insert("incident", {"short_description": "recent", "opened_at": "2024-05-10 11:30:00"}, "admin")
    assert _numbers(store, "opened_at>=2024-05-05 00:00:00") == ["recent"]
    assert _numbers(store, "opened_at>=javascript:gs.minutesAgo(45)") == ["recent"]
    assert _numbers(store, "opened_at>javascript:gs.hoursAgo(1)") == ["recent"]
    assert _numbers(store, "opened_at<javascript:gs.daysAgo(2)") == ["old"]
    assert _numbers(store, "opened_at>=javascript:gs.daysAgoStart(0)") == ["recent"]
    assert _numbers(store, "opened_at>=javascript:gs.beginningOfToday()") == ["recent"]
    assert _numbers(store, "opened_at<=javascript:gs.nowDateTime()^ORDERBYopened_at") == ["old", "recent"]
    assert _numbers(
        store,
        "opened_atBETWEENjavascript:gs.dateGenerate('2024-04-30','start')"
        "@javascript:gs.dateGenerate('2024-05-02','end')",
    ) == ["old"]


def test_get_user_id(store):
    beth = store.sid("sys_user", "beth.anglin")
    store.insert("incident", {"short_description": "mine", "caller_id": beth}, "beth.anglin")
    store.insert("incident", {"short_description": "other"}, "admin")
    rows, _ = store.query("incident", "caller_id=javascript:gs.getUserID()", user="beth.anglin")
    assert [r["short_description"] for r in rows] == ["mine"]


def test_invalid_terms_are_dropped_or_poison(populated):
    store, _ = populated
    assert len(_numbers(store, "no_such_field=1")) == 4  # dropped: widens to all rows
    assert _numbers(store, "no_such_field=1^priority=1") == ["Printer on fire"]
    assert _numbers(store, "priorityFOO1^ORpriority=5") == ["printer jam"]
    assert _numbers(store, "opened_at>javascript:gs.evil()^priority=1") == ["Printer on fire"]
    assert _numbers(store, "priority<abc^priority=1") == ["Printer on fire"]
    assert _numbers(store, "no_such_field=1^priority=1", invalid_no_rows=True) == []
    assert _numbers(store, "ORDERBYnope^priority=1", invalid_no_rows=True) == []


def test_limit_offset_and_total(populated):
    store, _ = populated
    rows, total = store.query("incident", "ORDERBYshort_description", limit=2, offset=1)
    assert total == 4
    assert [r["short_description"] for r in rows] == ["printer jam", "Printer on fire"]
    assert store.query("incident", "priority=5", limit=1)[1] == 1
    store.insert("incident", {"short_description": "new"}, "admin")  # invalidates the cached count
    assert store.query("incident", "priority=5", limit=1)[1] == 2
    store.delete("incident", rows[0]["sys_id"], "admin")
    assert store.query("incident", "ORDERBYshort_description", limit=2, offset=1)[1] == 4


# --------------------------------------------------------------------------- property: SQL == reference

SCHEMA = Table("qt", "Query test")
for _f in (
    Field("sys_id", GUID),
    Field("s1", STRING),
    Field("s2", STRING),
    Field("n", INTEGER),
    Field("c", CHOICE, choices=(("1", "One"), ("2", "Two")), numeric=True),
    Field("d", DATETIME),
    Field("b", BOOLEAN),
):
    SCHEMA.fields[_f.name] = _f

STRINGS = ["", "a", "A", "ab", "Ab", "b%", "_", "a_b", "é", "É", "x^y", "10", "9"]
INTS = ["", "0", "1", "2", "10", "-3", "9"]
DATES = ["", "2024-01-01 00:00:00", "2024-01-01 12:00:00", "2024-02-01 00:00:00", "2023-12-31 23:59:59"]
BOOLS = ["true", "false"]
VALUES = {"s1": STRINGS, "s2": STRINGS, "n": INTS, "c": INTS, "d": DATES, "b": BOOLS}
OPS = [
    "=",
    "!=",
    "LIKE",
    "NOT LIKE",
    "STARTSWITH",
    "ENDSWITH",
    "IN",
    "NOT IN",
    "<",
    "<=",
    ">",
    ">=",
    "ISEMPTY",
    "ISNOTEMPTY",
    "BETWEEN",
    "ANYTHING",
    "SAMEAS",
    "NSAMEAS",
    "CONTAINS",
    "DOES NOT CONTAIN",
    "BOGUS",
]

record_st = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in VALUES.items()})


@st.composite
def term_st(draw):
    name = draw(st.sampled_from(list(VALUES) + ["zz"]))
    op = draw(st.sampled_from(OPS))
    pool = VALUES.get(name, STRINGS) + STRINGS[:4]
    if op in ("IN", "NOT IN"):
        value = ",".join(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)))
    elif op == "BETWEEN":
        value = draw(st.sampled_from(pool)) + "@" + draw(st.sampled_from(pool))
    elif op in ("SAMEAS", "NSAMEAS"):
        value = draw(st.sampled_from(list(VALUES) + ["zz"]))
    elif op in ("ISEMPTY", "ISNOTEMPTY", "ANYTHING"):
        value = ""
    else:
        value = draw(st.sampled_from(pool))
    return f"{name}{op}{value.replace('^', '^^')}"


@st.composite
def query_st(draw):
    segments = []
    for _ in range(draw(st.integers(1, 3))):
        clauses = []
        for _ in range(draw(st.integers(0, 3))):
            terms = draw(st.lists(term_st(), min_size=1, max_size=3))
            clauses.append("^OR".join(terms))
        segments.append("^".join(clauses))
    query = "^NQ".join(segments)
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(list(VALUES)))
        query += ("^ORDERBYDESC" if draw(st.booleans()) else "^ORDERBY") + name
    return query


def _sql_eval(conn, compiled):
    where, params, order = to_sql(compiled)
    return [r[0] for r in conn.execute(f"SELECT sys_id FROM qt WHERE {where} ORDER BY {order}", params)]


@given(st.lists(record_st, max_size=12), query_st(), st.booleans())
@settings(max_examples=400, deadline=None)
def test_sql_matches_reference_evaluator(records, query, invalid_no_rows):
    conn = sqlite3.connect(":memory:")
    cols = ", ".join(f"{q(n)} TEXT NOT NULL DEFAULT ''" for n in VALUES)
    conn.execute(f"CREATE TABLE qt (sys_id TEXT PRIMARY KEY, {cols})")
    rows = []
    for i, rec in enumerate(records):
        row = {"sys_id": f"{i:032x}", **rec}
        rows.append(row)
        names = list(row)
        conn.execute(
            f"INSERT INTO qt ({', '.join(q(n) for n in names)}) VALUES ({', '.join('?' * len(names))})",
            [row[n] for n in names],
        )
    compiled = compile_query(SCHEMA, query, QueryContext(), invalid_no_rows)
    expected = [r["sys_id"] for r in evaluate(compiled, rows)]
    assert _sql_eval(conn, compiled) == expected
