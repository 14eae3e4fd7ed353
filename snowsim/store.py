"""SQLite-backed record store with ServiceNow business rules.

Every table in :mod:`snowsim.tables` is a real SQLite table with TEXT columns (``sys_id`` is the
primary key); the encoded query engine (:mod:`snowsim.query`) translates queries to SQL over
them. One connection (``check_same_thread=False``) is shared and guarded by an ``RLock``.

Business rules and data policies live here, so a write through the HTTP API and a direct call
(the vendor agent, the web view) behave the same way. Violations raise :class:`PolicyError`
(HTTP 403 in the API).
"""

# SQL is built only from schema identifiers (quoted) and "?" placeholders; client text is never interpolated.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import random
import re
import secrets
import sqlite3
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import auth as _auth
from .query import QueryContext, case_insensitive, compile_query, q, to_sql
from .tables import (
    BOOLEAN,
    CHOICE,
    DATETIME,
    INTEGER,
    JOURNAL_INPUT,
    JOURNAL_LABELS,
    JOURNAL_LIST,
    PRIORITY_MATRIX,
    REFERENCE,
    TABLES,
    Table,
    choice_rows,
)

__all__ = [
    "Store",
    "utc_to_local",
    "local_to_utc",
    "PolicyError",
    "ACLError",
    "StoreError",
    "NotFoundError",
    "UnknownTableError",
    "FMT",
    "DEMO_USERS",
    "DEFAULT_PROPERTIES",
]

log = logging.getLogger("snowsim.store")
FMT = "%Y-%m-%d %H:%M:%S"
_SYS_ID_RE = re.compile(r"^[0-9a-f]{32}$")

_ENGINEER_ROLES = f"itil,{_auth.JOURNAL_READ_ROLE}"
# (user_name, password, first, last, roles, email/title)
DEMO_USERS = [
    ("admin", "admin", "System", "Administrator", "admin", "System Administrator"),
    (
        "kompass.integration",
        "kompass",
        "Kompass",
        "Integration",
        f"itil,rest_api_explorer,{_auth.JOURNAL_READ_ROLE}",
        "Integration user",
    ),
    ("beth.anglin", "beth.anglin", "Beth", "Anglin", "itil", "Service Desk Agent"),
    # the vendor's engineers read the activity stream (sys_journal_field), as real ones do
    ("itil.engineer1", "itil.engineer1", "Ivar", "Engineer", _ENGINEER_ROLES, "Network Engineer"),
    ("itil.engineer2", "itil.engineer2", "Ingrid", "Engineer", _ENGINEER_ROLES, "Database Engineer"),
    ("itil.engineer3", "itil.engineer3", "Ida", "Engineer", _ENGINEER_ROLES, "Application Engineer"),
    ("itil.engineer4", "itil.engineer4", "Isak", "Engineer", _ENGINEER_ROLES, "Service Desk Engineer"),
    ("no.roles", "no.roles", "No", "Roles", "", "Read-only user without roles"),
]
# time zones of the demo users: the vendor's people work in Oslo, admin in UTC (integration user: --integration-tz)
DEMO_TZ = "Europe/Oslo"
ADMIN_TZ = "UTC"
INTEGRATION_USER = "kompass.integration"
DEMO_GROUPS = [
    ("Service Desk", "First line support", ["beth.anglin", "itil.engineer4"]),
    ("Network", "Network operations", ["itil.engineer1"]),
    ("Database", "Database administration", ["itil.engineer2"]),
    ("Application Support", "Business application support", ["itil.engineer3"]),
    ("Hardware", "Hardware and end-user devices", ["itil.engineer4"]),
]
DEMO_CIS = ["EXCH-SRV-01", "SAP-ERP-PROD", "lnux100", "FILE-SRV-02", "CORE-SW-01"]
DEMO_SERVICES = ["Email", "SAP ERP", "IT Services", "Network Services", "Case Management"]
DEMO_CAT_ITEMS = [
    ("Standard Laptop", "Lenovo ThinkPad standard image"),
    ("New Email Account", "Mailbox request"),
    ("VPN Access", "Remote access token"),
]
DEMO_OAUTH_CLIENTS = [("kompass", "kompass-secret", "kompass.integration", "Kompass e-bonding")]


_DEMO_HASHES: dict[str, str] = {}


def _demo_hash(secret: str) -> str:
    """Salted PBKDF2 hash, memoised per process for the fixed demo secrets (keeps store creation fast)."""
    if secret not in _DEMO_HASHES:
        _DEMO_HASHES[secret] = _auth.hash_secret(secret)
    return _DEMO_HASHES[secret]


class StoreError(Exception):
    """Base class; ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail


class PolicyError(StoreError):
    """A data policy or business rule refused the write (HTTP 403)."""

    status = 403


class ACLError(StoreError):
    """An ACL refused the write (HTTP 403 with ServiceNow's ACL error body)."""

    status = 403

    def __init__(self, action: str = "Update"):
        super().__init__("Operation Failed", f"ACL Exception {action} Failed due to security constraints")


# Instance properties (sys_properties on a real instance). Names starting with "glide." / "com." are the real
# ones; "snowsim." names stand for behaviour a real instance configures elsewhere (business rules, ACLs).
DEFAULT_PROPERTIES: dict[str, str] = {
    # users whose comments count as the caller's (the integration user writing on the caller's behalf)
    "snowsim.incident.caller_proxy_users": "kompass.integration",
    # a caller comment on a Resolved incident reopens it (In Progress)
    "snowsim.incident.reopen_on_caller_comment": "true",
    # auto-close: resolved_at (true) or sys_updated_on (false) decides the age of a Resolved incident
    "com.snc.incident.autoclose.basedon.resolved_at": "true",
    # attachments: maximum size in MB (real default 1024) and refused file name extensions
    "com.glide.attachment.max_size": "1024",
    "snowsim.attachment.blocked_extensions": "exe,bat,cmd,com,scr,vbs,js,jar,msi,ps1",
}
# roles that may close an incident (resolve-and-close-an-incident.md: "For closure: itil_admin or admin")
CLOSE_ROLES = {"itil_admin", "admin"}
# fields an admin may still change on a Closed incident (everything else is read-only for everyone)
CLOSED_ADMIN_FIELDS = {"close_notes", "close_code", "correlation_id", "correlation_display", "comments", "work_notes"}
SYSTEM_USERS = {"system"}
UNIQUE_FIELDS = {"sys_id", "number"}  # an ORDERBY on one of these makes the order total


class NotFoundError(StoreError):
    status = 404


class UnknownTableError(StoreError):
    status = 400


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name and name not in ("UTC", "GMT") else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def utc_to_local(value: str, zone: str | None) -> str:
    """A stored UTC datetime as the user sees it (display values)."""
    if not value or not zone or zone in ("UTC", "GMT"):
        return value
    try:
        when = dt.datetime.strptime(value, FMT).replace(tzinfo=dt.UTC)
    except ValueError:
        return value
    return when.astimezone(_zone(zone)).strftime(FMT)


def local_to_utc(value: str, zone: str | None) -> str:
    """A datetime typed in the user's time zone (sysparm_input_display_value=true) as stored UTC."""
    if not value or not zone or zone in ("UTC", "GMT"):
        return value
    try:
        when = dt.datetime.strptime(value, FMT).replace(tzinfo=_zone(zone))
    except ValueError:
        return value
    return when.astimezone(dt.UTC).strftime(FMT)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class Store:
    def __init__(self, path: str | None = None, seed: int = 0):
        self.path = path or ":memory:"
        self.seed = seed
        self.clock: Callable[[], dt.datetime] | None = None
        self.invalid_query_returns_no_rows = False
        self.properties: dict[str, str] = dict(DEFAULT_PROPERTIES)
        self.generation = 0  # bumped whenever users/passwords change (auth cache key)
        self._lock = threading.RLock()
        self._listeners: list[Callable[[dict], Any]] = []
        self._user_cache: dict[str, dict | None] = {}
        self._versions: dict[str, int] = {}  # per-table write counter (count cache invalidation)
        self._count_cache: dict[tuple, tuple[int, int]] = {}
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA temp_store=MEMORY")
        self._conn.execute("PRAGMA cache_size=-65536")
        with self._lock:
            self._create_schema()
            if not self._meta("seeded"):
                self._seed()
            else:
                self._upgrade_seed()
        self.secret_key = self._meta("secret_key") or ""

    # ------------------------------------------------------------------ infrastructure

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def now(self) -> dt.datetime:
        return (self.clock or _now)().replace(microsecond=0)

    def now_str(self) -> str:
        return self.now().strftime(FMT)

    def prop(self, name: str, default: str = "") -> str:
        return self.properties.get(name, default)

    def prop_bool(self, name: str) -> bool:
        return self.prop(name).strip().lower() in ("true", "1", "yes", "on")

    def prop_list(self, name: str) -> list[str]:
        return [v.strip() for v in self.prop(name).split(",") if v.strip()]

    def add_listener(self, callback: Callable[[dict], Any]) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[dict], Any]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _emit(self, event: dict) -> None:
        for cb in list(self._listeners):
            try:
                cb(event)
            except Exception:  # noqa: BLE001 - listeners must never break a write
                log.exception("snowsim listener %r failed", cb)

    def sid(self, kind: str, key: str) -> str:
        """Deterministic sys_id derived from the seed."""
        return hashlib.md5(f"snowsim:{self.seed}:{kind}:{key}".encode(), usedforsecurity=False).hexdigest()

    def _create_schema(self) -> None:
        c = self._conn
        for t in TABLES.values():
            cols = ['"sys_id" TEXT PRIMARY KEY NOT NULL']
            cols += [f"{q(f.name)} TEXT NOT NULL DEFAULT ''" for f in t.stored_fields() if f.name != "sys_id"]
            c.execute(f"CREATE TABLE IF NOT EXISTS {q(t.name)} ({', '.join(cols)})")
            for f in t.stored_fields():
                if not f.indexed:
                    continue
                if case_insensitive(f):  # "=" compares case-insensitively: the index must use NOCASE too
                    c.execute(f"DROP INDEX IF EXISTS {q(f'ix_{t.name}_{f.name}')}")
                    c.execute(
                        f"CREATE INDEX IF NOT EXISTS {q(f'ix_{t.name}_{f.name}_ci')} "
                        f"ON {q(t.name)} ({q(f.name)} COLLATE NOCASE)"
                    )
                else:
                    c.execute(f"CREATE INDEX IF NOT EXISTS {q(f'ix_{t.name}_{f.name}')} ON {q(t.name)} ({q(f.name)})")
        c.execute("DROP INDEX IF EXISTS ix_journal_elem_created")
        c.execute(
            'CREATE INDEX IF NOT EXISTS ix_journal_elem_created_ci ON "sys_journal_field" '
            "(element_id COLLATE NOCASE, sys_created_on)"
        )
        c.execute("CREATE TABLE IF NOT EXISTS _snowsim_meta (key TEXT PRIMARY KEY, value TEXT)")
        c.execute("CREATE TABLE IF NOT EXISTS _snowsim_counter (tbl TEXT PRIMARY KEY, next INTEGER)")
        c.execute("CREATE TABLE IF NOT EXISTS _snowsim_password (user_name TEXT PRIMARY KEY, hash TEXT)")
        c.execute("CREATE TABLE IF NOT EXISTS _snowsim_attachment_data (sys_id TEXT PRIMARY KEY, data BLOB)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS _snowsim_oauth_client (client_id TEXT PRIMARY KEY, secret_hash TEXT, "
            "user_name TEXT, name TEXT)"
        )
        c.execute(
            "CREATE TABLE IF NOT EXISTS _snowsim_oauth_token (token_hash TEXT PRIMARY KEY, kind TEXT, "
            "client_id TEXT, user_name TEXT, nonce TEXT, expires_at REAL)"
        )
        c.execute(
            "CREATE INDEX IF NOT EXISTS ix_oauth_token_find ON _snowsim_oauth_token "
            "(kind, client_id, user_name, expires_at)"
        )

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM _snowsim_meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO _snowsim_meta (key, value) VALUES (?, ?)", (key, value))

    def _table(self, name: str) -> Table:
        t = TABLES.get(name)
        if t is None:
            raise UnknownTableError(f"Invalid table {name}", "")
        return t

    # ------------------------------------------------------------------ seed / reset

    def _seed(self) -> None:
        c = self._conn
        c.execute("BEGIN")
        try:
            self._set_meta("secret_key", secrets.token_hex(32))
            now = self.now_str()
            users = {}
            for user_name, password, first, last, roles, title in DEMO_USERS:
                sid = self.sid("sys_user", user_name)
                users[user_name] = sid
                self._raw_insert(
                    "sys_user",
                    {
                        "sys_id": sid,
                        "user_name": user_name,
                        "first_name": first,
                        "last_name": last,
                        "name": f"{first} {last}",
                        "email": f"{user_name}@example.com",
                        "title": title,
                        "roles": roles,
                        "active": "true",
                        "locked_out": "false",
                        "time_zone": ADMIN_TZ if user_name == "admin" else DEMO_TZ,
                    },
                    "system",
                    now,
                )
                c.execute("INSERT OR REPLACE INTO _snowsim_password VALUES (?, ?)", (user_name, _demo_hash(password)))
            for name, desc, members in DEMO_GROUPS:
                gid = self.sid("sys_user_group", name)
                self._raw_insert(
                    "sys_user_group",
                    {
                        "sys_id": gid,
                        "name": name,
                        "description": desc,
                        "email": name.lower().replace(" ", ".") + "@example.com",
                        "active": "true",
                        "type": "itil",
                    },
                    "system",
                    now,
                )
                for m in members:
                    self._raw_insert(
                        "sys_user_grmember",
                        {"sys_id": self.sid("grmember", f"{name}:{m}"), "user": users[m], "group": gid},
                        "system",
                        now,
                    )
            for name in DEMO_CIS:
                self._raw_insert("cmdb_ci", {"sys_id": self.sid("cmdb_ci", name), "name": name}, "system", now)
            for name in DEMO_SERVICES:
                self._raw_insert(
                    "cmdb_ci_service", {"sys_id": self.sid("cmdb_ci_service", name), "name": name}, "system", now
                )
            for name, desc in DEMO_CAT_ITEMS:
                self._raw_insert(
                    "sc_cat_item",
                    {"sys_id": self.sid("sc_cat_item", name), "name": name, "short_description": desc},
                    "system",
                    now,
                )
            for row in choice_rows():
                key = f"{row['name']}.{row['element']}.{row['value']}"
                self._raw_insert("sys_choice", {"sys_id": self.sid("sys_choice", key), **row}, "system", now)
            for client_id, secret, user_name, name in DEMO_OAUTH_CLIENTS:
                c.execute(
                    "INSERT OR REPLACE INTO _snowsim_oauth_client VALUES (?, ?, ?, ?)",
                    (client_id, _demo_hash(secret), user_name, name),
                )
            self._set_meta("seeded", now)
            self._set_meta("seed_engineers_journal_read", now)
            self._set_meta("seed_time_zones", now)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def _upgrade_seed(self) -> None:
        """Bring a store seeded by an older snowsim up to the current demo roles and zones (once per store)."""
        if not self._meta("seed_time_zones"):
            # older seeds gave every demo user GMT; leave zones that someone changed alone
            self._conn.executemany(
                'UPDATE "sys_user" SET time_zone=? WHERE user_name=? AND time_zone=?',
                [(ADMIN_TZ if u[0] == "admin" else DEMO_TZ, u[0], "GMT") for u in DEMO_USERS],
            )
            self._set_meta("seed_time_zones", self.now_str())
        if self._meta("seed_engineers_journal_read"):
            return
        # older seeds gave the demo engineers only "itil"; leave roles that someone changed alone
        self._conn.executemany(
            'UPDATE "sys_user" SET roles=? WHERE user_name=? AND roles=?',
            [
                (roles, user_name, "itil")
                for user_name, _pw, _f, _l, roles, _t in DEMO_USERS
                if roles == _ENGINEER_ROLES
            ],
        )
        self._set_meta("seed_engineers_journal_read", self.now_str())

    def reset(self) -> None:
        """Delete everything and reseed the demo data (same seed, same demo sys_ids)."""
        with self._lock:
            c = self._conn
            for t in TABLES.values():
                c.execute(f"DELETE FROM {q(t.name)}")
            for name in (
                "_snowsim_meta",
                "_snowsim_counter",
                "_snowsim_password",
                "_snowsim_attachment_data",
                "_snowsim_oauth_client",
                "_snowsim_oauth_token",
            ):
                c.execute(f"DELETE FROM {name}")
            self._user_cache.clear()
            self._count_cache.clear()
            self._touch(*TABLES)
            self.generation += 1
            self._seed()
            self.secret_key = self._meta("secret_key") or ""

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ low-level row access

    def _raw_insert(self, table: str, values: dict, user: str, now: str) -> dict:
        t = TABLES[table]
        rec = {f.name: f.default for f in t.stored_fields()}
        rec.update({k: v for k, v in values.items() if k in rec})
        rec.setdefault("sys_id", uuid.uuid4().hex)
        if not rec.get("sys_id"):
            rec["sys_id"] = uuid.uuid4().hex
        rec["sys_created_on"] = rec.get("sys_created_on") or now
        rec["sys_created_by"] = rec.get("sys_created_by") or user
        if "sys_updated_on" in rec:
            rec["sys_updated_on"] = rec.get("sys_updated_on") or now
            rec["sys_updated_by"] = rec.get("sys_updated_by") or user
            rec["sys_mod_count"] = rec.get("sys_mod_count") or "0"
        cols = list(rec)
        self._conn.execute(
            f"INSERT INTO {q(table)} ({', '.join(q(c) for c in cols)}) VALUES ({', '.join('?' * len(cols))})",
            [rec[c] for c in cols],
        )
        return rec

    def _row(self, table: str, sys_id: str) -> dict | None:
        row = self._conn.execute(f"SELECT * FROM {q(table)} WHERE sys_id=?", (sys_id,)).fetchone()
        return dict(row) if row else None

    @staticmethod
    def _with_journal_fields(t: Table, rec: dict) -> dict:
        for f in t.fields.values():
            if not f.stored:
                rec[f.name] = ""
        return rec

    # ------------------------------------------------------------------ public read API

    def get(self, table: str, sys_id: str) -> dict | None:
        t = self._table(table)
        with self._lock:
            rec = self._row(table, sys_id)
        return self._with_journal_fields(t, rec) if rec else None

    def query(
        self,
        table: str,
        encoded_query: str | None = "",
        limit: int | None = None,
        offset: int = 0,
        *,
        user: str | dict | None = None,
        invalid_no_rows: bool | None = None,
        count: bool = True,
    ) -> tuple[list[dict], int]:
        """Run an encoded query. Returns (rows, total matches); total is -1 when ``count=False``."""
        t = self._table(table)
        if invalid_no_rows is None:
            invalid_no_rows = self.invalid_query_returns_no_rows
        ctx = self._ctx(user)
        compiled = compile_query(t, encoded_query or "", ctx, invalid_no_rows)
        where, params, order = to_sql(compiled)
        order = self._tie_break(compiled, order, offset)
        sql = f"SELECT * FROM {q(table)} WHERE {where} ORDER BY {order}"
        page_params = list(params)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            page_params += [int(limit), int(offset)]
        elif offset:
            sql += " LIMIT -1 OFFSET ?"
            page_params += [int(offset)]
        with self._lock:
            total = -1
            if count:
                # Paging clients ask for the same filter page after page: cache the count until the table changes.
                key = (table, where, tuple(params))
                version = self._versions.get(table, 0)
                hit = self._count_cache.get(key)
                if hit and hit[0] == version:
                    total = hit[1]
                else:
                    total = self._conn.execute(f"SELECT COUNT(*) FROM {q(table)} WHERE {where}", params).fetchone()[0]
                    if len(self._count_cache) > 1000:
                        self._count_cache.clear()
                    self._count_cache[key] = (version, total)
            rows = [self._with_journal_fields(t, dict(r)) for r in self._conn.execute(sql, page_params)]
        return rows, total

    def _tie_break(self, compiled: Any, order: str, offset: int) -> str:
        """No ordering gifts: rows that tie on the ORDERBY keys come back in a seeded shuffle that
        changes from page to page (offset), so paging without a unique tie-break loses or repeats rows.

        Without ORDERBY the order is sys_id's (a table scan on the primary key), not insertion order.
        """
        keys = order[: -len("rowid")].rstrip(", ") if order.endswith("rowid") else order
        names = {f.name for f, _ in compiled.order}
        if not names:
            return '"sys_id"'
        if names & UNIQUE_FIELDS:
            return keys
        # a rotation of the (random hex) sys_id, at a position derived from the seed and the offset
        pos = 1 + zlib.crc32(f"{self.seed}:{int(offset)}".encode()) % 31
        return f'{keys}, substr("sys_id", {pos}) || substr("sys_id", 1, {pos - 1})'

    def count(self, table: str, encoded_query: str | None = "") -> int:
        return self.query(table, encoded_query, limit=0)[1]

    def _ctx(self, user: str | dict | None) -> QueryContext:
        u = user if isinstance(user, dict) else (self.get_user(user) if user else None)
        return QueryContext(
            user_sys_id=(u or {}).get("sys_id", ""), user_name=(u or {}).get("user_name", ""), now=self.now()
        )

    def journal(self, sys_id: str, elements: Iterable[str] | None = None) -> list[dict]:
        """Journal rows of one record, oldest first."""
        sql = 'SELECT * FROM "sys_journal_field" WHERE element_id=?'
        params: list = [sys_id]
        if elements:
            els = list(elements)
            sql += f" AND element IN ({','.join('?' * len(els))})"
            params += els
        sql += " ORDER BY sys_created_on, rowid"
        with self._lock:
            return [dict(r) for r in self._conn.execute(sql, params)]

    def journal_map(self, ids: list[str]) -> dict[str, list[dict]]:
        """Journal rows for many records, newest first per record."""
        out: dict[str, list[dict]] = {i: [] for i in ids}
        if not ids:
            return out
        with self._lock:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                for r in self._conn.execute(
                    f'SELECT * FROM "sys_journal_field" WHERE element_id IN ({",".join("?" * len(chunk))}) '
                    "ORDER BY sys_created_on DESC, rowid DESC",
                    chunk,
                ):
                    out[r["element_id"]].append(dict(r))
        return out

    def journal_display(self, rows: list[dict], elements: Iterable[str], tz: str | None = None) -> str:
        """Render journal rows (newest first) the way display values show them (headers in ``tz``)."""
        els = set(elements)
        parts = []
        for r in rows:
            if r["element"] not in els:
                continue
            who = self.user_display_name(r["sys_created_by"])
            label = JOURNAL_LABELS.get(r["element"], r["element"])
            parts.append(f"{utc_to_local(r['sys_created_on'], tz)} - {who} ({label})\n{r['value']}\n\n")
        return "".join(parts)

    def latest_journal_entry(self, sys_id: str, element: str) -> str:
        """The newest ``element`` entry of a record as display text (GlideElement.getJournalEntry(1))."""
        with self._lock:
            row = self._conn.execute(
                'SELECT * FROM "sys_journal_field" WHERE element_id=? AND element=? '
                "ORDER BY sys_created_on DESC, rowid DESC LIMIT 1",
                (sys_id, element),
            ).fetchone()
        return self.journal_display([dict(row)], [element]) if row else ""

    def display_map(self, table: str, ids: Iterable[str]) -> dict[str, str]:
        """Display values of records of ``table`` by sys_id."""
        t = TABLES.get(table)
        ids = [i for i in set(ids) if i]
        if t is None or not ids:
            return {}
        df = t.display_field if t.display_field in t.fields else "sys_id"
        out = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                for r in self._conn.execute(
                    f"SELECT sys_id, {q(df)} FROM {q(table)} WHERE sys_id IN ({','.join('?' * len(chunk))})", chunk
                ):
                    out[r[0]] = r[1]
        return out

    # ------------------------------------------------------------------ users / credentials

    def get_user(self, user_name: str) -> dict | None:
        with self._lock:
            if user_name in self._user_cache:
                return self._user_cache[user_name]
            row = self._conn.execute('SELECT * FROM "sys_user" WHERE user_name=?', (user_name,)).fetchone()
            user = dict(row) if row else None
            if len(self._user_cache) > 5000:
                self._user_cache.clear()
            self._user_cache[user_name] = user
            return user

    def user_tz(self, user: str | dict | None) -> str:
        """The user's time zone (sys_user.time_zone; UTC when empty or unknown)."""
        u = user if isinstance(user, dict) else (self.get_user(user) if user else None)
        return (u or {}).get("time_zone") or "UTC"

    def set_user_tz(self, user_name: str, zone: str) -> None:
        u = self.get_user(user_name)
        if u is None:
            raise NotFoundError("No Record found", f"No user {user_name}")
        self.update("sys_user", u["sys_id"], {"time_zone": zone}, "system")

    def user_display_name(self, user_name: str) -> str:
        u = self.get_user(user_name) if user_name else None
        return (u or {}).get("name") or user_name

    def password_hash(self, user_name: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT hash FROM _snowsim_password WHERE user_name=?", (user_name,)).fetchone()
        return row[0] if row else None

    def set_password(self, user_name: str, password: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO _snowsim_password VALUES (?, ?)", (user_name, _auth.hash_secret(password))
            )
            self.generation += 1

    def oauth_client(self, client_id: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM _snowsim_oauth_client WHERE client_id=?", (client_id,)).fetchone()
        return dict(row) if row else None

    def add_oauth_client(self, client_id: str, secret: str, user_name: str = "", name: str = "") -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO _snowsim_oauth_client VALUES (?, ?, ?, ?)",
                (client_id, _auth.hash_secret(secret), user_name, name or client_id),
            )

    def oauth_token_lookup(self, token_hash: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM _snowsim_oauth_token WHERE token_hash=?", (token_hash,)).fetchone()
        return dict(row) if row else None

    def oauth_token_find(self, kind: str, client_id: str, user_name: str, valid_after: float) -> dict | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM _snowsim_oauth_token WHERE kind=? AND client_id=? AND user_name=? AND expires_at>? "
                "ORDER BY expires_at DESC LIMIT 1",
                (kind, client_id, user_name, valid_after),
            ).fetchone()
        return dict(row) if row else None

    def oauth_token_save(
        self, token_hash: str, kind: str, client_id: str, user_name: str, nonce: str, expires_at: float
    ) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO _snowsim_oauth_token VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash, kind, client_id, user_name, nonce, expires_at),
            )

    def expire_tokens(self) -> None:
        """Make every issued OAuth token expire now (for tests and fault drills)."""
        with self._lock:
            self._conn.execute("UPDATE _snowsim_oauth_token SET expires_at=0")

    # ------------------------------------------------------------------ value coercion

    def _coerce(self, t: Table, name: str, value: Any, input_display: bool, tz: str | None = None) -> str | None:
        """Client value -> stored string, or None to ignore the field."""
        f = t.fields[name]
        if isinstance(value, dict):
            value = value.get("value", value.get("display_value", ""))
        if value is None:
            value = ""
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        else:
            value = str(value)
        if f.type == INTEGER or (f.type == CHOICE and f.numeric):
            v = value.strip()
            if v == "":
                return ""
            if re.fullmatch(r"[+-]?\d{1,18}", v):
                return str(int(v))
            if f.type == CHOICE and input_display:
                return f.choice_value(v)
            return None
        if f.type == BOOLEAN:
            v = value.strip().lower()
            if v in ("true", "1", "yes"):
                return "true"
            if v in ("false", "0", "no", ""):
                return "false"
            return None
        if f.type == DATETIME:
            v = value.strip()
            if v == "":
                return ""
            for fmt in (FMT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
                try:
                    parsed = dt.datetime.strptime(v, fmt).strftime(FMT)
                except ValueError:
                    continue
                return local_to_utc(parsed, tz) if input_display else parsed
            return None
        if f.type == CHOICE and input_display and value:
            mapped = f.choice_value(value)
            if mapped is not None and not any(v == value for v, _ in f.choices):
                return mapped
            return value
        if f.type == REFERENCE and input_display and value and f.reference in TABLES:
            return self._resolve_reference(f.reference, value)
        return value

    def resolve_reference(self, table: str, value: str) -> str:
        """A sys_id of ``table`` for ``value`` (a sys_id or a display value); ``value`` unchanged if none."""
        with self._lock:
            return self._resolve_reference(table, value)

    def _resolve_reference(self, table: str, value: str) -> str:
        if self._row(table, value):
            return value
        t = TABLES[table]
        cols = [t.display_field] if t.display_field in t.fields else []
        if table == "sys_user":
            cols += ["user_name"]
        for col in cols:
            row = self._conn.execute(
                f"SELECT sys_id FROM {q(table)} WHERE {q(col)}=? ORDER BY rowid LIMIT 1", (value,)
            ).fetchone()
            if row:
                return row[0]
        return value

    # ------------------------------------------------------------------ writes

    def _next_number(self, t: Table) -> str:
        row = self._conn.execute("SELECT next FROM _snowsim_counter WHERE tbl=?", (t.name,)).fetchone()
        n = row[0] if row else t.number_start
        self._conn.execute("INSERT OR REPLACE INTO _snowsim_counter VALUES (?, ?)", (t.name, n + 1))
        return f"{t.number_prefix}{n:07d}"

    def _apply(
        self, t: Table, rec: dict, values: dict, input_display: bool, insert: bool, tz: str | None = None
    ) -> tuple[set[str], list[tuple[str, str]]]:
        changed: set[str] = set()
        journal: list[tuple[str, str]] = []
        for name, raw in (values or {}).items():
            f = t.fields.get(name)
            if f is None:
                continue  # unknown fields are ignored silently
            if f.type == JOURNAL_INPUT:
                text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
                if isinstance(raw, dict):
                    text = str(raw.get("value", ""))
                if text != "":
                    journal.append((name, text))
                continue
            if f.type == JOURNAL_LIST:
                continue
            if f.read_only and not (insert and name == "sys_id"):
                continue
            v = self._coerce(t, name, raw, input_display, tz)
            if v is None:
                continue
            if name == "sys_id":
                v = v.lower()
                if not _SYS_ID_RE.match(v):
                    continue
            if rec.get(name) != v:
                rec[name] = v
                changed.add(name)
        return changed, journal

    def insert(self, table: str, values: dict, user: str = "system", *, input_display: bool = False) -> dict:
        t = self._table(table)
        with self._lock:
            now = self.now_str()
            rec = {f.name: f.default for f in t.stored_fields()}
            rec["sys_id"] = ""
            tz = self.user_tz(user) if input_display else None
            changed, journal = self._apply(t, rec, values, input_display, insert=True, tz=tz)
            if not rec["sys_id"]:
                rec["sys_id"] = uuid.uuid4().hex
            elif self._row(table, rec["sys_id"]):
                raise PolicyError("Operation Failed", f"A record with sys_id {rec['sys_id']} already exists")
            rec["sys_created_on"] = now
            rec["sys_created_by"] = user
            if "sys_updated_on" in rec:
                rec["sys_updated_on"] = now
                rec["sys_updated_by"] = user
                rec["sys_mod_count"] = "0"
            if t.name == "incident":
                self._guard_incident(None, rec, changed, user)
            self._business_rules(t, None, rec, changed, user, now)
            if t.number_prefix and not rec.get("number"):
                rec["number"] = self._next_number(t)
            event = self._commit(t, "insert", rec, journal, user, now, insert=True)
            changed_fields = sorted(k for k, v in rec.items() if v not in ("",) and k in t.fields) + sorted(
                {j[0] for j in journal}
            )
            event["changed_fields"] = changed_fields
        self._after_write(t)
        self._emit(event)
        return self._with_journal_fields(t, dict(rec))

    def update(
        self, table: str, sys_id: str, values: dict, user: str = "system", *, input_display: bool = False
    ) -> dict:
        t = self._table(table)
        with self._lock:
            old = self._row(table, sys_id)
            if old is None:
                raise NotFoundError("No Record found", "Record doesn't exist or ACL restricts the record retrieval")
            now = self.now_str()
            rec = dict(old)
            tz = self.user_tz(user) if input_display else None
            changed, journal = self._apply(t, rec, values, input_display, insert=False, tz=tz)
            if not changed and not journal:
                return self._with_journal_fields(t, rec)
            if t.name == "incident":
                self._guard_incident(old, rec, changed, user)
                self._br_incident_caller(
                    old,
                    rec,
                    changed,
                    journal,
                    user,
                    explicit_state=bool({"state", "incident_state"} & set(values or ())),
                )
            self._business_rules(t, old, rec, changed, user, now)
            changed = {k for k in rec if rec[k] != old.get(k)}
            if "sys_updated_on" in rec:
                rec["sys_updated_on"] = now
                rec["sys_updated_by"] = user
                rec["sys_mod_count"] = str(int(old.get("sys_mod_count") or 0) + 1)
            event = self._commit(t, "update", rec, journal, user, now, insert=False)
            event["changed_fields"] = sorted(changed - {"sys_updated_on", "sys_updated_by", "sys_mod_count"}) + sorted(
                {j[0] for j in journal}
            )
        self._after_write(t)
        self._emit(event)
        return self._with_journal_fields(t, dict(rec))

    def delete(self, table: str, sys_id: str, user: str = "system") -> bool:
        t = self._table(table)
        with self._lock:
            old = self._row(table, sys_id)
            if old is None:
                raise NotFoundError("No Record found", "Record doesn't exist or ACL restricts the record retrieval")
            c = self._conn
            self._touch(table, "sys_attachment")
            c.execute("BEGIN")
            try:
                c.execute(f"DELETE FROM {q(table)} WHERE sys_id=?", (sys_id,))
                if table == "sys_attachment":
                    c.execute("DELETE FROM _snowsim_attachment_data WHERE sys_id=?", (sys_id,))
                else:
                    for (aid,) in c.execute(
                        'SELECT sys_id FROM "sys_attachment" WHERE table_sys_id=?', (sys_id,)
                    ).fetchall():
                        c.execute('DELETE FROM "sys_attachment" WHERE sys_id=?', (aid,))
                        c.execute("DELETE FROM _snowsim_attachment_data WHERE sys_id=?", (aid,))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        self._after_write(t)
        self._emit(
            {
                "table": table,
                "operation": "delete",
                "sys_id": sys_id,
                "record": self._with_journal_fields(t, old),
                "changed_fields": [],
                "journal": [],
                "user": user,
            }
        )
        return True

    def _touch(self, *tables: str) -> None:
        for name in tables:
            self._versions[name] = self._versions.get(name, 0) + 1

    def _commit(
        self, t: Table, op: str, rec: dict, journal: list[tuple[str, str]], user: str, now: str, insert: bool
    ) -> dict:
        c = self._conn
        self._touch(t.name, "sys_journal_field")
        c.execute("BEGIN")
        try:
            if insert:
                cols = list(rec)
                c.execute(
                    f"INSERT INTO {q(t.name)} ({', '.join(q(k) for k in cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [rec[k] for k in cols],
                )
            else:
                cols = [k for k in rec if k != "sys_id"]
                c.execute(
                    f"UPDATE {q(t.name)} SET {', '.join(q(k) + '=?' for k in cols)} WHERE sys_id=?",
                    [rec[k] for k in cols] + [rec["sys_id"]],
                )
            jrows = []
            for element, text in journal:
                jr = {
                    "sys_id": uuid.uuid4().hex,
                    "element": element,
                    "element_id": rec["sys_id"],
                    "name": t.name,
                    "value": text,
                    "sys_created_on": now,
                    "sys_created_by": user,
                }
                c.execute(
                    'INSERT INTO "sys_journal_field" (sys_id, element, element_id, name, value, '
                    "sys_created_on, sys_created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        jr[k]
                        for k in (
                            "sys_id",
                            "element",
                            "element_id",
                            "name",
                            "value",
                            "sys_created_on",
                            "sys_created_by",
                        )
                    ],
                )
                jrows.append(jr)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return {
            "table": t.name,
            "operation": op,
            "sys_id": rec["sys_id"],
            "record": self._with_journal_fields(t, dict(rec)),
            "changed_fields": [],
            "journal": jrows,
            "user": user,
        }

    def _after_write(self, t: Table) -> None:
        if t.name == "sys_user":
            with self._lock:
                self._user_cache.clear()
                self.generation += 1

    # ------------------------------------------------------------------ business rules

    def _user_sys_id(self, user_name: str) -> str:
        u = self.get_user(user_name)
        return u["sys_id"] if u else ""

    def _roles(self, user: str) -> set[str]:
        if user in SYSTEM_USERS:
            return {"admin"}
        return _auth.roles_of(self.get_user(user))

    def _guard_incident(self, old: dict | None, rec: dict, changed: set[str], user: str) -> None:
        """ACLs: a Closed incident is read-only (admin: a few fields); closing needs itil_admin or admin."""
        roles = self._roles(user)
        if old is not None and old.get("state") == "7":
            if "admin" not in roles:
                raise ACLError("Update")
            if changed - CLOSED_ADMIN_FIELDS:
                raise ACLError("Update")
        if rec.get("state") == "7" and (old is None or old.get("state") != "7") and not (roles & CLOSE_ROLES):
            raise ACLError("Insert" if old is None else "Update")

    def _acts_for_caller(self, user: str, rec: dict) -> bool:
        if user in self.prop_list("snowsim.incident.caller_proxy_users"):
            return True
        caller = rec.get("caller_id", "")
        return bool(caller) and caller == self._user_sys_id(user)

    def _br_incident_caller(
        self,
        old: dict,
        rec: dict,
        changed: set[str],
        journal: list[tuple[str, str]],
        user: str,
        explicit_state: bool = False,
    ) -> None:
        """A caller comment takes the incident off Awaiting Caller, or reopens it when Resolved (same update)."""
        if not any(element == "comments" for element, _ in journal):
            return
        if explicit_state or not self._acts_for_caller(user, old):
            return
        if old.get("state") == "3" and old.get("hold_reason") == "1":
            rec["state"] = "2"
            rec["hold_reason"] = ""
            changed.update({"state", "hold_reason"})
        elif old.get("state") == "6" and self.prop_bool("snowsim.incident.reopen_on_caller_comment"):
            rec["state"] = "2"
            changed.add("state")

    def autoclose(self, after_s: float, user: str = "system", limit: int = 500) -> list[str]:
        """Close incidents Resolved for longer than ``after_s`` seconds (the "Autoclose Incidents" job)."""
        by_resolution = self.prop_bool("com.snc.incident.autoclose.basedon.resolved_at")
        based_on = "resolved_at" if by_resolution else "sys_updated_on"
        cutoff = (self.now() - dt.timedelta(seconds=after_s)).strftime(FMT)
        rows, _ = self.query(
            "incident", f"state=6^{based_on}<={cutoff}^ORDERBY{based_on}^ORDERBYsys_id", limit, count=False
        )
        closed = []
        for row in rows:
            try:
                self.update("incident", row["sys_id"], {"state": "7"}, user)
            except StoreError as exc:
                log.warning("auto-close of %s failed: %s %s", row.get("number"), exc.message, exc.detail)
                continue
            closed.append(row["sys_id"])
        return closed

    def _business_rules(self, t: Table, old: dict | None, rec: dict, changed: set[str], user: str, now: str) -> None:
        if t.name == "incident":
            self._br_incident(old, rec, changed, user, now)
        elif t.name in ("sc_req_item", "sc_request", "change_request"):
            self._br_task(t, old, rec, user, now)
        elif t.name == "sys_user":
            if ({"first_name", "last_name"} & changed) and "name" not in changed:
                rec["name"] = f"{rec.get('first_name', '')} {rec.get('last_name', '')}".strip()

    def _br_incident(self, old: dict | None, rec: dict, changed: set[str], user: str, now: str) -> None:
        if "incident_state" in changed and "state" not in changed:
            rec["state"] = rec["incident_state"]
        rec["incident_state"] = rec["state"]
        rec["priority"] = PRIORITY_MATRIX.get((rec.get("impact", ""), rec.get("urgency", "")), rec.get("priority", "5"))
        state = rec["state"]
        old_state = old["state"] if old else None
        if old is None:
            rec["opened_at"] = rec.get("opened_at") or now
            rec["opened_by"] = rec.get("opened_by") or self._user_sys_id(user)
        if state == "3":
            if not rec.get("hold_reason"):
                raise PolicyError(
                    "Operation Failed", "Data Policy Exception: The following fields are mandatory: On hold reason"
                )
        else:
            rec["hold_reason"] = ""
        if state in ("6", "7"):
            missing = [
                label
                for name, label in (("close_code", "Resolution code"), ("close_notes", "Resolution notes"))
                if not rec.get(name)
            ]
            if missing:
                raise PolicyError(
                    "Operation Failed",
                    "Data Policy Exception: The following fields are mandatory: " + ", ".join(missing),
                )
        uid = self._user_sys_id(user)
        if state in ("6", "7") and old_state not in ("6", "7"):
            rec["resolved_at"] = now
            rec["resolved_by"] = uid
        if state == "7" and old_state != "7":
            rec["closed_at"] = now
            rec["closed_by"] = uid
        if old_state in ("6", "7") and state not in ("6", "7", "8"):
            rec["reopen_count"] = str(int(rec.get("reopen_count") or 0) + 1)
            for k in ("resolved_at", "resolved_by", "closed_at", "closed_by"):
                rec[k] = ""
        rec["active"] = "false" if state in ("7", "8") else "true"

    def _br_task(self, t: Table, old: dict | None, rec: dict, user: str, now: str) -> None:
        if old is None:
            rec["opened_at"] = rec.get("opened_at") or now
            rec["opened_by"] = rec.get("opened_by") or self._user_sys_id(user)
        closed_states = {"sc_req_item": ("3", "4", "7"), "change_request": ("3", "4")}.get(t.name, ())
        if t.name == "sc_request":
            closed = rec.get("request_state") in ("closed_complete", "closed_incomplete")
            was_closed = bool(old) and old.get("request_state") in ("closed_complete", "closed_incomplete")
        else:
            closed = rec.get("state") in closed_states
            was_closed = bool(old) and old.get("state") in closed_states
        if closed and not was_closed:
            rec["closed_at"] = now
            rec["closed_by"] = self._user_sys_id(user)
            if t.name == "sc_req_item" and rec.get("state") == "3":
                rec["stage"] = "complete"
        rec["active"] = "false" if closed else "true"

    # ------------------------------------------------------------------ attachments

    def add_attachment(
        self, table_name: str, table_sys_id: str, file_name: str, content_type: str, data: bytes, user: str = "system"
    ) -> dict:
        self._table(table_name)
        if self.get(table_name, table_sys_id) is None:
            raise NotFoundError("Invalid table_sys_id", f"Record {table_sys_id} not found in table {table_name}")
        compressed = len(zlib.compress(data, 1))
        values = {
            "file_name": file_name,
            "content_type": content_type,
            "size_bytes": str(len(data)),
            "size_compressed": str(compressed),
            "compressed": "true",
            "table_name": table_name,
            "table_sys_id": table_sys_id,
            "hash": hashlib.sha256(data).hexdigest(),
            "state": "available",
        }
        sid = uuid.uuid4().hex
        with self._lock:
            self._conn.execute("INSERT INTO _snowsim_attachment_data VALUES (?, ?)", (sid, data))
        try:
            rec = self.insert("sys_attachment", {"sys_id": sid, **values}, user)
        except BaseException:
            with self._lock:
                self._conn.execute("DELETE FROM _snowsim_attachment_data WHERE sys_id=?", (sid,))
            raise
        return rec

    def attachment_data(self, sys_id: str) -> bytes | None:
        with self._lock:
            row = self._conn.execute("SELECT data FROM _snowsim_attachment_data WHERE sys_id=?", (sys_id,)).fetchone()
        return bytes(row[0]) if row else None

    # ------------------------------------------------------------------ bulk data (benchmarks, demos)

    def generate_incidents(self, n: int, seed: int | None = None, user: str = "admin") -> int:
        """Insert ``n`` plausible incidents quickly (one transaction, business rules applied)."""
        rnd = random.Random(self.seed if seed is None else seed)
        t = TABLES["incident"]
        users = [self.sid("sys_user", u[0]) for u in DEMO_USERS if u[4]]
        groups = [self.sid("sys_user_group", g[0]) for g in DEMO_GROUPS]
        words = [
            "printer",
            "email",
            "vpn",
            "laptop",
            "password",
            "network",
            "database",
            "slow",
            "error",
            "login",
            "outage",
            "disk",
            "access",
            "report",
            "license",
        ]
        base = self.now() - dt.timedelta(days=90)
        with self._lock:
            c = self._conn
            self._touch("incident")
            c.execute("BEGIN")
            try:
                cols = [f.name for f in t.stored_fields()]
                sql = f'INSERT INTO "incident" ({", ".join(q(k) for k in cols)}) VALUES ({", ".join("?" * len(cols))})'
                batch = []
                for _ in range(n):
                    when = (base + dt.timedelta(seconds=rnd.randrange(90 * 86400))).strftime(FMT)
                    state = rnd.choice(["1", "1", "2", "2", "2", "3", "6", "7"])
                    rec = {f.name: f.default for f in t.stored_fields()}
                    rec.update(
                        {
                            "sys_id": uuid.UUID(int=rnd.getrandbits(128)).hex,
                            "number": self._next_number(t),
                            "short_description": " ".join(rnd.sample(words, 3)).capitalize(),
                            "caller_id": rnd.choice(users),
                            "assignment_group": rnd.choice(groups),
                            "impact": rnd.choice("123"),
                            "urgency": rnd.choice("123"),
                            "state": state,
                            "category": rnd.choice(["inquiry", "software", "hardware", "network", "database"]),
                            "opened_at": when,
                            "sys_created_on": when,
                            "sys_updated_on": when,
                            "sys_created_by": user,
                            "sys_updated_by": user,
                            "opened_by": rnd.choice(users),
                        }
                    )
                    if rnd.random() < 0.3:
                        rec["correlation_id"] = f"KOMPASS-{rnd.randrange(10**8):08d}"
                    if state == "3":
                        rec["hold_reason"] = rnd.choice("1345")
                    if state in ("6", "7"):
                        rec["close_code"] = "Solution provided"
                        rec["close_notes"] = "Fixed"
                    self._br_incident(None, rec, set(), user, when)
                    batch.append([rec[k] for k in cols])
                    if len(batch) >= 5000:
                        c.executemany(sql, batch)
                        batch = []
                if batch:
                    c.executemany(sql, batch)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return n
