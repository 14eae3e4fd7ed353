"""Encoded query engine: parse ``sysparm_query`` to an AST, validate it against a table, and
either translate it to SQL (what the store runs) or evaluate it in pure Python (the reference
evaluator used by the property tests).

Grammar (ServiceNow encoded queries)::

    query   := segment ("^NQ" segment)*          -- union of segments
    segment := clause ("^" clause)*              -- AND
    clause  := term ("^OR" term)*                -- OR binds tighter than ^
    term    := field OP value | ORDERBY field | ORDERBYDESC field | EQ

``^^`` inside a value is a literal ``^``. Field names are lowercase (``[a-z_][a-z0-9_]*``) and may
be dot-walked through reference fields (``caller_id.user_name=beth.anglin``).

Invalid terms (unknown field, unknown or unsupported operator, bad value for the field type,
``javascript:`` outside the allow-list) are dropped and the remainder runs, exactly as an instance
without ``glide.invalid_query.returns_no_rows``. With ``invalid_no_rows=True`` an invalid term
makes the whole query match nothing.
"""

# SQL is built only from schema identifiers (quoted) and "?" placeholders; client text is never interpolated.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .tables import CHOICE, DATETIME, REFERENCE, STRING, TABLES, Field, Table

__all__ = [
    "Term",
    "Query",
    "QueryContext",
    "CompiledTerm",
    "Compiled",
    "parse",
    "compile_query",
    "to_sql",
    "evaluate",
    "OPERATORS",
    "escape_value",
]

# Longest/most specific first: the first operator that prefixes the rest of the term wins.
OPERATORS = (
    "ISNOTEMPTY",
    "ISEMPTY",
    "EMPTYSTRING",
    "ANYTHING",
    "NOT LIKE",
    "NOT IN",
    "LIKE",
    "STARTSWITH",
    "ENDSWITH",
    "INSTANCEOF",
    "IN",
    "BETWEEN",
    "NSAMEAS",
    "SAMEAS",
    "DOES NOT CONTAIN",
    "CONTAINS",
    "DYNAMIC",
    "VALCHANGES",
    "CHANGESFROM",
    "CHANGESTO",
    "RELATIVEGT",
    "RELATIVELT",
    "DATEPART",
    "MORETHAN",
    "LESSTHAN",
    "!=",
    "<=",
    ">=",
    "=",
    "<",
    ">",
)
#: Recognised (so they are not mistaken for a field name) but not implemented: such terms are invalid.
UNSUPPORTED = {
    "INSTANCEOF",
    "DYNAMIC",
    "VALCHANGES",
    "CHANGESFROM",
    "CHANGESTO",
    "RELATIVEGT",
    "RELATIVELT",
    "DATEPART",
    "MORETHAN",
    "LESSTHAN",
}
SUPPORTED = set(OPERATORS) - UNSUPPORTED
NO_VALUE_OPS = {"ISNOTEMPTY", "ISEMPTY", "EMPTYSTRING", "ANYTHING"}
RELATIONAL = {"<", "<=", ">", ">="}
_FIELD_RE = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*")
_JS_RE = re.compile(r"^javascript\s*:\s*gs\.([A-Za-z]+)\(\s*(.*?)\s*\)\s*;?\s*$", re.DOTALL)
_INT_RE = re.compile(r"^[+-]?\d{1,18}$")
FMT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str
    raw: str


@dataclass
class Query:
    """``segments`` is a union (``^NQ``) of AND-lists of OR-lists of terms."""

    segments: list[list[list[Term]]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    invalid: list[str] = field(default_factory=list)  # syntactically invalid terms
    raw: str = ""


@dataclass
class QueryContext:
    user_sys_id: str = ""
    user_name: str = ""
    now: dt.datetime | None = None

    def current(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def escape_value(value: str) -> str:
    """Escape a literal value for use inside an encoded query (``^`` -> ``^^``)."""
    return value.replace("^", "^^")


def _split(text: str) -> list[str]:
    tokens, buf, i, n = [], [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "^":
            if i + 1 < n and text[i + 1] == "^":
                buf.append("^")
                i += 2
                continue
            tokens.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    tokens.append("".join(buf))
    return tokens


def _parse_term(token: str) -> Term | None:
    m = _FIELD_RE.match(token)
    if not m:
        return None
    name, rest = m.group(0), token[m.end() :]
    for op in OPERATORS:
        if rest.startswith(op):
            return Term(name, op, rest[len(op) :], token)
    return None


def parse(text: str | None) -> Query:
    """Parse an encoded query. Never raises; unparseable terms land in ``Query.invalid``."""
    q = Query(raw=text or "")
    if not text:
        return q
    current: list[list[Term]] = []
    q.segments.append(current)
    for token in _split(str(text)):
        if token.startswith("NQ"):
            current = []
            q.segments.append(current)
            token = token[2:]
        if token in ("", "EQ"):
            continue
        if token.startswith("ORDERBYDESC"):
            q.order.append((token[len("ORDERBYDESC") :], True))
            continue
        if token.startswith("ORDERBY"):
            q.order.append((token[len("ORDERBY") :], False))
            continue
        is_or = token.startswith("OR")
        body = token[2:] if is_or else token
        term = _parse_term(body)
        if term is None:
            q.invalid.append(token)
            continue
        if is_or and current:
            current[-1].append(term)
        else:
            current.append([term])
    return q


# --------------------------------------------------------------------------- compile (validate)


@dataclass(frozen=True)
class CompiledTerm:
    path: tuple[tuple[str, Field], ...]  # (table, field) hops; all but the last are references
    op: str
    values: tuple = ()  # normalised operand(s)
    other: str = ""  # SAMEAS/NSAMEAS: the other column

    @property
    def leaf(self) -> Field:
        return self.path[-1][1]


@dataclass
class Compiled:
    table: Table
    segments: list[list[list[CompiledTerm]]]
    order: list[tuple[Field, bool]]
    invalid: list[str]
    no_rows: bool = False


def _js_value(value: str, ctx: QueryContext) -> str | None:
    m = _JS_RE.match(value)
    if not m:
        return None
    fn, argtext = m.group(1), m.group(2)
    args = [a.strip().strip("'\"") for a in argtext.split(",")] if argtext.strip() else []
    now = ctx.current()

    def num(default: int = 0) -> int | None:
        if not args:
            return default
        return int(args[0]) if _INT_RE.match(args[0]) else None

    today = now.replace(hour=0, minute=0, second=0)
    try:
        if fn == "getUserID":
            return ctx.user_sys_id
        if fn == "getUserName":
            return ctx.user_name
        if fn == "now":
            return now.strftime("%Y-%m-%d")
        if fn == "nowDateTime" or fn == "nowNoTZ":
            return now.strftime(FMT)
        if fn in ("minutesAgo", "hoursAgo", "daysAgo", "daysAgoStart", "daysAgoEnd", "monthsAgo"):
            n = num()
            if n is None:
                return None
            if fn == "minutesAgo":
                return (now - dt.timedelta(minutes=n)).strftime(FMT)
            if fn == "hoursAgo":
                return (now - dt.timedelta(hours=n)).strftime(FMT)
            if fn == "daysAgo":
                return (now - dt.timedelta(days=n)).strftime(FMT)
            if fn == "daysAgoStart":
                return (today - dt.timedelta(days=n)).strftime(FMT)
            if fn == "daysAgoEnd":
                return (today - dt.timedelta(days=n)).replace(hour=23, minute=59, second=59).strftime(FMT)
            return None
        if fn == "beginningOfToday":
            return today.strftime(FMT)
        if fn == "endOfToday":
            return today.replace(hour=23, minute=59, second=59).strftime(FMT)
        if fn == "beginningOfYesterday":
            return (today - dt.timedelta(days=1)).strftime(FMT)
        if fn == "endOfYesterday":
            return (today - dt.timedelta(days=1)).replace(hour=23, minute=59, second=59).strftime(FMT)
        if fn == "dateGenerate" and len(args) == 2:
            d = dt.datetime.strptime(args[0], "%Y-%m-%d")
            t = {"start": "00:00:00", "end": "23:59:59"}.get(args[1], args[1])
            return dt.datetime.strptime(f"{d:%Y-%m-%d} {t}", FMT).strftime(FMT)
    except (ValueError, OverflowError):
        return None
    return None


def _resolve_path(table: Table, name: str) -> tuple[tuple[str, Field], ...] | None:
    parts = name.split(".")
    hops = []
    t = table
    for i, part in enumerate(parts):
        f = t.fields.get(part)
        if f is None or not f.stored:
            return None
        hops.append((t.name, f))
        if i < len(parts) - 1:
            if f.type != REFERENCE or f.reference not in TABLES:
                return None
            t = TABLES[f.reference]
    return tuple(hops)


def _literal(value: str, ctx: QueryContext) -> str | None:
    if value.startswith("javascript"):
        return _js_value(value, ctx)
    return value


def _compile_term(table: Table, term: Term, ctx: QueryContext) -> CompiledTerm | None:
    if term.op not in SUPPORTED:
        return None
    path = _resolve_path(table, term.field)
    if path is None:
        return None
    leaf = path[-1][1]
    op = {"CONTAINS": "LIKE", "DOES NOT CONTAIN": "NOT LIKE", "EMPTYSTRING": "ISEMPTY"}.get(term.op, term.op)
    if op in NO_VALUE_OPS:
        return CompiledTerm(path, op)
    if op in ("SAMEAS", "NSAMEAS"):
        owner = table if len(path) == 1 else TABLES[path[-1][0]]
        other = owner.fields.get(term.value)
        if other is None or not other.stored:
            return None
        return CompiledTerm(path, op, (), other.name)
    if op in ("IN", "NOT IN"):
        vals = []
        for v in term.value.split(","):
            lit = _literal(v, ctx)
            if lit is None:
                return None
            vals.append(lit)
        return CompiledTerm(path, op, tuple(vals))
    if op == "BETWEEN":
        if "@" not in term.value:
            return None
        a, b = term.value.split("@", 1)
        a2, b2 = _literal(a, ctx), _literal(b, ctx)
        if a2 is None or b2 is None:
            return None
        if leaf.is_numeric:
            if not (_INT_RE.match(a2) and _INT_RE.match(b2)):
                return None
            return CompiledTerm(path, op, (int(a2), int(b2)))
        return CompiledTerm(path, op, (a2, b2))
    value = _literal(term.value, ctx)
    if value is None:
        return None
    if op in RELATIONAL:
        if leaf.is_numeric:
            if not _INT_RE.match(value):
                return None
            return CompiledTerm(path, op, (int(value),))
        if leaf.type == DATETIME and value == "":
            return None
    return CompiledTerm(path, op, (value,))


def compile_query(
    table: Table, query: Query | str | None, ctx: QueryContext | None = None, invalid_no_rows: bool = False
) -> Compiled:
    """Validate a parsed query against ``table``; invalid terms are dropped (or poison the query)."""
    ctx = ctx or QueryContext()
    if not isinstance(query, Query):
        query = parse(query)
    invalid = list(query.invalid)
    segments: list[list[list[CompiledTerm]]] = []
    for seg in query.segments:
        out_seg = []
        for clause in seg:
            out_clause = []
            for term in clause:
                ct = _compile_term(table, term, ctx)
                if ct is None:
                    invalid.append(term.raw)
                else:
                    out_clause.append(ct)
            if out_clause:
                out_seg.append(out_clause)
        segments.append(out_seg)
    order = []
    for name, desc in query.order:
        f = table.fields.get(name)
        if f is None or not f.stored:
            invalid.append(("ORDERBYDESC" if desc else "ORDERBY") + name)
            continue
        order.append((f, desc))
    return Compiled(table, segments, order, invalid, no_rows=bool(invalid) and invalid_no_rows)


# --------------------------------------------------------------------------- SQL backend


def q(name: str) -> str:
    """Quote an identifier (names come from the schema, never from the client)."""
    return '"' + name.replace('"', '""') + '"'


def _like_escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def case_insensitive(f: Field) -> bool:
    """String fields compare and sort case-insensitively, as on a MySQL-backed instance (ci collation).

    Exceptions (exact, binary): sys_id and reference fields (lowercase hex sys_ids), numeric fields
    and integer choices (numeric), datetimes and booleans (normalised values).
    """
    return f.type == STRING or (f.type == CHOICE and not f.is_numeric)


def _leaf_sql(ct: CompiledTerm, params: list) -> str:
    f = ct.leaf
    c = q(f.name)
    op = ct.op
    if case_insensitive(f):
        c_ci = c + " COLLATE NOCASE"
        if op in ("=", "!="):
            params.append(ct.values[0])
            return f"{c_ci} {op} ?"
        if op in ("IN", "NOT IN"):
            params.extend(ct.values)
            return f"{c_ci} {op} ({','.join('?' * len(ct.values))})"
        if op in ("SAMEAS", "NSAMEAS"):
            return f"{c_ci} {'=' if op == 'SAMEAS' else '!='} {q(ct.other)}"
    if op == "ANYTHING":
        return "1=1"
    if op == "ISEMPTY":
        return f"{c} = ''"
    if op == "ISNOTEMPTY":
        return f"{c} != ''"
    if op == "SAMEAS":
        return f"{c} = {q(ct.other)}"
    if op == "NSAMEAS":
        return f"{c} != {q(ct.other)}"
    if op in ("IN", "NOT IN"):
        params.extend(ct.values)
        marks = ",".join("?" * len(ct.values))
        return f"{c} {'NOT IN' if op == 'NOT IN' else 'IN'} ({marks})"
    if op in ("LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH"):
        v = _like_escape(ct.values[0])
        pattern = {"LIKE": f"%{v}%", "NOT LIKE": f"%{v}%", "STARTSWITH": f"{v}%", "ENDSWITH": f"%{v}"}[op]
        params.append(pattern)
        return f"{c} {'NOT LIKE' if op == 'NOT LIKE' else 'LIKE'} ? ESCAPE '\\'"
    if op == "=":
        params.append(ct.values[0])
        return f"{c} = ?"
    if op == "!=":
        params.append(ct.values[0])
        return f"{c} != ?"
    col = f"CAST({c} AS INTEGER)" if f.is_numeric else c
    if op == "BETWEEN":
        params.extend(ct.values)
        return f"({c} != '' AND {col} BETWEEN ? AND ?)"
    params.append(ct.values[0])
    return f"({c} != '' AND {col} {op} ?)"


def _term_sql(ct: CompiledTerm, params: list) -> str:
    inner_params: list = []
    sql = _leaf_sql(ct, inner_params)
    # Dot-walk: wrap from the innermost hop outwards.
    for i in range(len(ct.path) - 2, -1, -1):
        _tname, ref = ct.path[i]
        target = ref.reference or ""
        sql = f"{q(ref.name)} IN (SELECT sys_id FROM {q(target)} WHERE {sql})"
    params.extend(inner_params)
    return sql


def _order_sql(order: list[tuple[Field, bool]]) -> str:
    parts = []
    for f, desc in order:
        d = " DESC" if desc else ""
        if f.is_numeric:
            parts.append(f"({q(f.name)} != ''){d}")
            parts.append(f"CAST({q(f.name)} AS INTEGER){d}")
        elif case_insensitive(f):
            parts.append(f"{q(f.name)} COLLATE NOCASE{d}")
        else:
            parts.append(f"{q(f.name)}{d}")
    parts.append("rowid")
    return ", ".join(parts)


def to_sql(compiled: Compiled) -> tuple[str, list, str]:
    """Return (where, params, order_by) for the compiled query."""
    if compiled.no_rows:
        return "0=1", [], _order_sql(compiled.order)
    params: list = []
    if not compiled.segments:
        return "1=1", params, _order_sql(compiled.order)
    seg_sql = []
    for seg in compiled.segments:
        if not seg:
            seg_sql = ["1=1"]
            params = []
            break
        clauses = []
        for clause in seg:
            terms = [_term_sql(ct, params) for ct in clause]
            clauses.append("(" + " OR ".join(terms) + ")")
        seg_sql.append("(" + " AND ".join(clauses) + ")")
    return " OR ".join(seg_sql), params, _order_sql(compiled.order)


# --------------------------------------------------------------------------- Python reference evaluator

_ASCII_LOWER = {i: i + 32 for i in range(ord("A"), ord("Z") + 1)}


def _alower(s: str) -> str:
    return s.translate(_ASCII_LOWER)


def _sqlite_int(v: str) -> int:
    m = re.match(r"\s*([+-]?\d+)", v)
    return int(m.group(1)) if m else 0


def _leaf_eval(ct: CompiledTerm, rec: dict) -> bool:
    f = ct.leaf
    v = rec.get(f.name, "")
    op = ct.op
    if op == "ANYTHING":
        return True
    if op == "ISEMPTY":
        return v == ""
    if op == "ISNOTEMPTY":
        return v != ""
    ci = case_insensitive(f)
    if op in ("SAMEAS", "NSAMEAS"):
        other = rec.get(ct.other, "")
        same = _alower(v) == _alower(other) if ci else v == other
        return same if op == "SAMEAS" else not same
    if op in ("IN", "NOT IN"):
        inside = _alower(v) in {_alower(x) for x in ct.values} if ci else v in ct.values
        return inside if op == "IN" else not inside
    if ci and op in ("=", "!="):
        return (_alower(v) == _alower(ct.values[0])) == (op == "=")
    if op in ("LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH"):
        lv, needle = _alower(v), _alower(ct.values[0])
        if op == "LIKE":
            return needle in lv
        if op == "NOT LIKE":
            return needle not in lv
        if op == "STARTSWITH":
            return lv.startswith(needle)
        return lv.endswith(needle)
    if op == "=":
        return v == ct.values[0]
    if op == "!=":
        return v != ct.values[0]
    if v == "":
        return False
    x = _sqlite_int(v) if f.is_numeric else v
    if op == "BETWEEN":
        return ct.values[0] <= x <= ct.values[1]
    y = ct.values[0]
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


Resolver = Callable[[str, str], "dict | None"]


def _term_eval(ct: CompiledTerm, rec: dict, resolver: Resolver | None) -> bool:
    cur = rec
    for _tname, ref in ct.path[:-1]:
        if resolver is None:
            return False
        sid = cur.get(ref.name, "")
        nxt = resolver(ref.reference or "", sid) if sid else None
        if nxt is None:
            return False
        cur = nxt
    return _leaf_eval(ct, cur)


def matches(compiled: Compiled, rec: dict, resolver: Resolver | None = None) -> bool:
    if compiled.no_rows:
        return False
    if not compiled.segments:
        return True
    for seg in compiled.segments:
        if all(any(_term_eval(ct, rec, resolver) for ct in clause) for clause in seg):
            return True
    return False


def _sort_key(f: Field, v: str):
    if f.is_numeric:
        return (v != "", _sqlite_int(v) if v else 0)
    if case_insensitive(f):
        return _alower(v).encode("utf-8")
    return v.encode("utf-8")


def evaluate(compiled: Compiled, rows: list[dict], resolver: Resolver | None = None) -> list[dict]:
    """Filter and order ``rows`` (given in insertion order) like the SQL backend does."""
    out = [r for r in rows if matches(compiled, r, resolver)]
    for f, desc in reversed(compiled.order):
        out.sort(key=lambda r, f=f: _sort_key(f, r.get(f.name, "")), reverse=desc)
    return out
