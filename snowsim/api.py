"""The ServiceNow REST surface: Table API, Attachment API, Batch API and the OAuth token endpoint.

Request handling is split in two layers:

- :func:`dispatch` is a synchronous core that takes a :class:`SimRequest` (method, path, query
  parameters, headers, body, authenticated user) and returns a :class:`SimResponse`. The Batch
  API runs its items through the same core, so a batched request behaves exactly like a direct one.
- :func:`create_app` wraps the core in a Starlette application (authentication, JSON error
  envelopes for every 4xx/5xx, ``extra_routes`` and ``middleware`` hooks for other snowsim parts).
"""

from __future__ import annotations

import base64
import http
import json
import logging
import re
import time
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import auth as acl
from .auth import Authenticator, OAuthError
from .query import escape_value
from .store import PolicyError, Store, StoreError, utc_to_local
from .tables import CHOICE, DATETIME, INTEGER, JOURNAL_INPUT, JOURNAL_LIST, REFERENCE, TABLES, Field, Table

__all__ = ["create_app", "dispatch", "SimRequest", "SimResponse", "ApiConfig", "error_response"]

log = logging.getLogger("snowsim.api")
JSON_TYPE = "application/json;charset=UTF-8"
DEFAULT_LIMIT = 10000
BATCH_TIMEOUT = 30.0
WWW_AUTHENTICATE = 'BASIC realm="Service-now"'

_TABLE_RE = re.compile(r"^/api/now/(?:(v1|v2)/)?table/([^/]+)(?:/([^/]+))?/?$")
_ATTACH_RE = re.compile(r"^/api/now/(?:v1/)?attachment(?:/(file|upload|[^/]+))?(?:/(file))?/?$")
_BATCH_RE = re.compile(r"^/api/now/(?:v1/)?batch/?$")


@dataclass
class ApiConfig:
    base_url: str | None = None
    invalid_query_returns_no_rows: bool = False


@dataclass
class SimRequest:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str
    user: dict | None = None

    def param(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.params:
            if k == name:
                return v
        return default

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").strip().lower() == "true"


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def media_type(self) -> str | None:
        return self.headers.get("Content-Type")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None) -> SimResponse:
    h = {"Content-Type": JSON_TYPE}
    h.update(headers or {})
    return SimResponse(status, _dumps(obj), h)


def error_response(status: int, message: str, detail: str = "", headers: dict[str, str] | None = None) -> SimResponse:
    return json_response(status, {"error": {"message": message, "detail": detail}, "status": "failure"}, headers)


def unauthorized() -> SimResponse:
    return error_response(
        401, "User Not Authenticated", "Required to provide Auth information", {"WWW-Authenticate": WWW_AUTHENTICATE}
    )


def not_found(detail: str = "Record doesn't exist or ACL restricts the record retrieval") -> SimResponse:
    return error_response(404, "No Record found", detail)


# --------------------------------------------------------------------------- rendering


class Renderer:
    """Turns raw records into Table API JSON for one request (caches reference lookups)."""

    def __init__(self, store: Store, table: Table, mode: str, exclude_links: bool, base: str, tz: str | None = None):
        self.store, self.table, self.mode, self.exclude, self.base = store, table, mode, exclude_links, base
        self.tz = tz  # the requesting user's time zone: display values of datetimes are in it
        self.displays: dict[str, dict[str, str]] = {}
        self.journals: dict[str, list[dict]] = {}
        self.records: dict[tuple[str, str], dict | None] = {}

    def select(self, fields_param: str | None) -> list[str]:
        if not fields_param:
            return list(self.table.fields)
        out = []
        for name in (n.strip() for n in fields_param.split(",")):
            if not name or name in out:
                continue
            if name in self.table.fields or self._path(name) is not None:
                out.append(name)
        return out

    def _path(self, name: str) -> list[Field] | None:
        t, hops = self.table, []
        parts = name.split(".")
        for i, part in enumerate(parts):
            f = t.fields.get(part)
            if f is None:
                return None
            hops.append(f)
            if i < len(parts) - 1:
                if f.type != REFERENCE or f.reference not in TABLES:
                    return None
                t = TABLES[f.reference]
        return hops

    def prefetch(self, recs: list[dict], names: list[str]) -> None:
        if self.mode == "false" or not recs:
            return
        for name in names:
            f = self.table.fields.get(name)
            if f is not None and f.type == REFERENCE and f.reference:
                ids = {r.get(name, "") for r in recs}
                self.displays.setdefault(f.reference, {}).update(self.store.display_map(f.reference, ids))
        if any(self.table.fields.get(n) is not None and not self.table.fields[n].stored for n in names):
            self.journals.update(self.store.journal_map([r["sys_id"] for r in recs]))

    def _get(self, table: str, sys_id: str) -> dict | None:
        key = (table, sys_id)
        if key not in self.records:
            self.records[key] = self.store.get(table, sys_id) if sys_id else None
        return self.records[key]

    def _display(self, f: Field, v: str, rec: dict) -> str:
        if f.type == CHOICE:
            return f.choice_label(v) if v else ""
        if f.type == REFERENCE:
            if not v:
                return ""
            cache = self.displays.setdefault(f.reference or "", {})
            if v not in cache:
                cache.update(self.store.display_map(f.reference or "", [v]))
            return cache.get(v, "")
        if f.type == INTEGER:
            try:
                return f"{int(v):,}"
            except ValueError:
                return v
        if f.type in (JOURNAL_INPUT, JOURNAL_LIST):
            sid = rec.get("sys_id", "")
            if sid not in self.journals:
                self.journals.update(self.store.journal_map([sid]))
            els = ("comments", "work_notes") if f.type == JOURNAL_LIST else (f.name,)
            return self.store.journal_display(self.journals.get(sid, []), els, self.tz)
        if f.type == DATETIME:
            return utc_to_local(v, self.tz)
        return v

    def value(self, f: Field, rec: dict) -> Any:
        v = rec.get(f.name, "")
        if v is None:
            v = ""
        mode = self.mode
        if f.type == REFERENCE:
            link = f"{self.base}/api/now/table/{f.reference}/{v}"
            if mode == "false":
                return v if (self.exclude or not v) else {"link": link, "value": v}
            d = self._display(f, v, rec)
            if mode == "true":
                return d if (self.exclude or not v) else {"display_value": d, "link": link}
            out = {"display_value": d}
            if not self.exclude and v:
                out["link"] = link
            out["value"] = v
            return out
        if mode == "false":
            return v
        d = self._display(f, v, rec)
        if mode == "true":
            return d
        return {"display_value": d, "value": v}

    def render(self, rec: dict, names: list[str]) -> dict:
        out = {}
        for name in names:
            f = self.table.fields.get(name)
            if f is not None:
                out[name] = self.value(f, rec)
                continue
            hops = self._path(name)
            if hops is None:
                continue
            cur: dict | None = rec
            for h in hops[:-1]:
                cur = self._get(h.reference or "", (cur or {}).get(h.name, "")) if cur else None
            leaf = hops[-1]
            if cur is None:
                out[name] = "" if self.mode != "all" else {"display_value": "", "value": ""}
            else:
                out[name] = self.value(leaf, cur)
        return out


def _mode(req: SimRequest) -> str:
    v = (req.param("sysparm_display_value") or "false").strip().lower()
    return v if v in ("true", "all") else "false"


# --------------------------------------------------------------------------- table API


def _check_accept(req: SimRequest) -> SimResponse | None:
    accept = req.headers.get("accept", "")
    if not accept:
        return None
    acc = accept.lower()
    if any(t in acc for t in ("application/json", "*/*", "application/*", "text/json")):
        return None
    return error_response(406, "Not Acceptable", f"The Accept type {accept} is not supported; use application/json")


def _parse_body(req: SimRequest) -> dict | SimResponse:
    ctype = req.headers.get("content-type", "").lower()
    if req.body.strip() == b"":
        return {}
    if ctype and "json" not in ctype:
        return error_response(415, "Unsupported Media Type", f"Content-Type {ctype} is not supported")
    try:
        data = json.loads(req.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return error_response(400, "Exception while reading request", "The payload is not valid JSON.")
    if not isinstance(data, dict):
        return error_response(400, "Exception while reading request", "The payload must be a JSON object.")
    return data


def _int_param(req: SimRequest, name: str, default: int) -> int | SimResponse:
    raw = req.param(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        return error_response(400, f"Invalid value for {name}", f"{name} must be an integer, got {raw!r}")


def _shorthand_query(store: Store, t: Table, req: SimRequest) -> str:
    terms = []
    for k, v in req.params:
        if k.startswith("sysparm_") or k not in t.fields or not t.fields[k].stored:
            continue
        f = t.fields[k]
        if f.type == CHOICE and v and not any(cv == v for cv, _ in f.choices):
            v = f.choice_value(v) or v
        elif f.type == REFERENCE and v and f.reference in TABLES:
            v = store.resolve_reference(f.reference, v)
        terms.append(f"{k}={escape_value(v)}")
    return "^".join(terms)


def _link_header(req: SimRequest, offset: int, limit: int, total: int | None, page_len: int) -> str:
    kept = [(k, v) for k, v in req.params if k not in ("sysparm_offset", "sysparm_limit")]

    def url(off: int) -> str:
        page = [("sysparm_offset", str(off)), ("sysparm_limit", str(limit))]
        return f"{req.base_url}{req.path}?{urlencode(kept + page)}"

    links = [f'<{url(0)}>;rel="first"']
    if offset > 0:
        links.append(f'<{url(max(0, offset - limit))}>;rel="prev"')
    has_next = (offset + limit < total) if total is not None else page_len >= limit
    if has_next:
        links.append(f'<{url(offset + limit)}>;rel="next"')
    if total is not None:
        last = ((total - 1) // limit) * limit if total > 0 else 0
        links.append(f'<{url(last)}>;rel="last"')
    return ",".join(links)


def table_list(store: Store, cfg: ApiConfig, req: SimRequest, t: Table, version: str | None) -> SimResponse:
    limit = _int_param(req, "sysparm_limit", DEFAULT_LIMIT)
    if isinstance(limit, SimResponse):
        return limit
    offset = _int_param(req, "sysparm_offset", 0)
    if isinstance(offset, SimResponse):
        return offset
    if offset < 0:
        return error_response(400, "Invalid value for sysparm_offset", "sysparm_offset must not be negative")
    if limit < 0:
        return error_response(400, "Invalid value for sysparm_limit", "sysparm_limit must not be negative")
    no_count = req.flag("sysparm_no_count")
    query = req.param("sysparm_query")
    if query is None:
        query = _shorthand_query(store, t, req)
    if acl.can_read(req.user, t.name):
        rows, total = store.query(
            t.name,
            query,
            limit,
            offset,
            user=req.user,
            count=not no_count,
            invalid_no_rows=cfg.invalid_query_returns_no_rows,
        )
    else:
        rows, total = [], (-1 if no_count else 0)
    if version == "v1" and not rows:
        return error_response(
            404, "No Record found", "Records matching query not found. Check query parameter or offset parameter"
        )
    r = Renderer(
        store, t, _mode(req), req.flag("sysparm_exclude_reference_link"), req.base_url, store.user_tz(req.user)
    )
    names = r.select(req.param("sysparm_fields"))
    r.prefetch(rows, names)
    headers = {}
    if not no_count:
        headers["X-Total-Count"] = str(total)
    if not req.flag("sysparm_suppress_pagination_header") and limit > 0:
        headers["Link"] = _link_header(req, offset, limit, None if no_count else total, len(rows))
    return json_response(200, {"result": [r.render(rec, names) for rec in rows]}, headers)


def _record_response(
    store: Store, req: SimRequest, t: Table, rec: dict, status: int, headers: dict[str, str] | None = None
) -> SimResponse:
    if req.headers.get("x-no-response-body", "").strip().lower() == "true":
        return SimResponse(status, b"", dict(headers or {}))
    r = Renderer(
        store, t, _mode(req), req.flag("sysparm_exclude_reference_link"), req.base_url, store.user_tz(req.user)
    )
    names = r.select(req.param("sysparm_fields"))
    r.prefetch([rec], names)
    return json_response(status, {"result": r.render(rec, names)}, headers)


def table_get(store: Store, req: SimRequest, t: Table, sys_id: str) -> SimResponse:
    if not acl.can_read(req.user, t.name):
        return not_found()
    rec = store.get(t.name, sys_id)
    if rec is None:
        return not_found()
    return _record_response(store, req, t, rec, 200)


def _acl_denied(action: str) -> SimResponse:
    return error_response(403, "Operation Failed", f"ACL Exception {action} Failed due to security constraints")


def table_create(store: Store, req: SimRequest, t: Table) -> SimResponse:
    body = _parse_body(req)
    if isinstance(body, SimResponse):
        return body
    if not acl.can_write(req.user, t.name):
        return _acl_denied("Insert")
    rec = store.insert(t.name, body, _user_name(req), input_display=req.flag("sysparm_input_display_value"))
    loc = f"{req.base_url}/api/now/table/{t.name}/{rec['sys_id']}"
    return _record_response(store, req, t, rec, 201, {"Location": loc})


def table_update(store: Store, req: SimRequest, t: Table, sys_id: str) -> SimResponse:
    body = _parse_body(req)
    if isinstance(body, SimResponse):
        return body
    if not acl.can_read(req.user, t.name):
        return not_found()
    if store.get(t.name, sys_id) is None:
        return not_found()
    if not acl.can_write(req.user, t.name):
        return _acl_denied("Update")
    rec = store.update(t.name, sys_id, body, _user_name(req), input_display=req.flag("sysparm_input_display_value"))
    return _record_response(store, req, t, rec, 200)


def table_delete(store: Store, req: SimRequest, t: Table, sys_id: str) -> SimResponse:
    if not acl.can_read(req.user, t.name) or store.get(t.name, sys_id) is None:
        return not_found()
    if not acl.can_delete(req.user, t.name):
        return _acl_denied("Delete")
    store.delete(t.name, sys_id, _user_name(req))
    return SimResponse(204)


def _user_name(req: SimRequest) -> str:
    return (req.user or {}).get("user_name", "guest")


def _method_not_allowed(allowed: str) -> SimResponse:
    return error_response(
        405, "Method not Supported", "Requested method is not supported by this resource", {"Allow": allowed}
    )


def table_dispatch(store: Store, cfg: ApiConfig, req: SimRequest, m: re.Match) -> SimResponse:
    version, table, sys_id = m.group(1), m.group(2), m.group(3)
    t = TABLES.get(table)
    if t is None:
        return error_response(400, f"Invalid table {table}", "")
    method = req.method
    if sys_id is None:
        if method in ("GET", "HEAD"):
            return table_list(store, cfg, req, t, version)
        if method == "POST":
            return table_create(store, req, t)
        return _method_not_allowed("GET, POST")
    if method in ("GET", "HEAD"):
        return table_get(store, req, t, sys_id)
    if method in ("PUT", "PATCH"):
        return table_update(store, req, t, sys_id)
    if method == "DELETE":
        return table_delete(store, req, t, sys_id)
    return _method_not_allowed("GET, PUT, PATCH, DELETE")


# --------------------------------------------------------------------------- attachment API


def attachment_meta(store: Store, rec: dict, base: str) -> dict:
    out = {k: ("" if v is None else str(v)) for k, v in rec.items() if k in TABLES["sys_attachment"].fields}
    out["download_link"] = f"{base}/api/now/attachment/{rec['sys_id']}/file"
    out["created_by_name"] = store.user_display_name(rec.get("sys_created_by", ""))
    out["updated_by_name"] = store.user_display_name(rec.get("sys_updated_by", ""))
    return out


def _attachment_visible(req: SimRequest, rec: dict | None) -> bool:
    return bool(rec) and acl.can_read(req.user, "sys_attachment") and acl.can_read(req.user, rec["table_name"])


def _create_attachment(
    store: Store, req: SimRequest, table_name: str, table_sys_id: str, file_name: str, content_type: str, data: bytes
) -> SimResponse:
    t = TABLES.get(table_name)
    if t is None:
        return error_response(400, f"Invalid table {table_name}", "")
    if not acl.can_read(req.user, table_name) or store.get(table_name, table_sys_id) is None:
        return error_response(
            404, "Invalid table_sys_id", f"Record {table_sys_id} does not exist in {table_name} or ACL restricts access"
        )
    if not acl.can_write(req.user, table_name) or not acl.can_write(req.user, "sys_attachment"):
        return _acl_denied("Insert")
    refused = _attachment_refused(store, file_name, len(data))
    if refused is not None:
        return refused
    target = store.get(table_name, table_sys_id) or {}
    if table_name == "incident" and target.get("state") == "7" and "admin" not in acl.roles_of(req.user):
        return _acl_denied("Insert")  # a Closed incident is read-only, attachments included
    rec = store.add_attachment(table_name, table_sys_id, file_name, content_type, data, _user_name(req))
    loc = f"{req.base_url}/api/now/attachment/{rec['sys_id']}"
    return json_response(201, {"result": attachment_meta(store, rec, req.base_url)}, {"Location": loc})


def _attachment_refused(store: Store, file_name: str, size: int) -> SimResponse | None:
    """com.glide.attachment.max_size (MB), glide.attachment.extensions (allow-list, empty = all) and
    snowsim.attachment.blocked_extensions (deny list)."""
    try:
        max_mb = float(store.prop("com.glide.attachment.max_size", "1024") or 1024)
    except ValueError:
        max_mb = 1024.0
    if size > max_mb * 1024 * 1024:
        return error_response(
            400,
            "Failed to create the attachment",
            f"The file size {size} bytes exceeds the maximum attachment size of {max_mb:g} MB "
            "(com.glide.attachment.max_size)",
        )
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    allowed = [e.lower().lstrip(".") for e in store.prop_list("glide.attachment.extensions")]
    blocked = [e.lower().lstrip(".") for e in store.prop_list("snowsim.attachment.blocked_extensions")]
    if (allowed and ext not in allowed) or (ext and ext in blocked):
        return error_response(
            400,
            "Failed to create the attachment",
            f"The file extension .{ext} is not allowed on this instance"
            if ext
            else "Files without an extension are not allowed on this instance",
        )
    return None


def _parse_multipart(req: SimRequest) -> tuple[dict[str, str], tuple[str, str, bytes] | None] | None:
    ctype = req.headers.get("content-type", "")
    if "multipart/form-data" not in ctype.lower():
        return None
    raw = b"Content-Type: " + ctype.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + req.body
    msg = BytesParser(policy=email_policy.HTTP).parsebytes(raw)
    if not msg.is_multipart():
        return None
    fields: dict[str, str] = {}
    file_part = None
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            file_part = (filename, part.get_content_type(), payload)
        else:
            fields[str(name)] = payload.decode("utf-8", "replace")
    return fields, file_part


def attachment_dispatch(store: Store, req: SimRequest, m: re.Match) -> SimResponse:
    first, second = m.group(1), m.group(2)
    method = req.method
    if first is None:
        if method not in ("GET", "HEAD"):
            return _method_not_allowed("GET")
        limit = _int_param(req, "sysparm_limit", DEFAULT_LIMIT)
        offset = _int_param(req, "sysparm_offset", 0)
        if isinstance(limit, SimResponse):
            return limit
        if isinstance(offset, SimResponse):
            return offset
        if offset < 0 or limit < 0:
            return error_response(400, "Invalid value for sysparm_offset", "sysparm_offset must not be negative")
        if acl.can_read(req.user, "sys_attachment"):
            rows, total = store.query("sys_attachment", req.param("sysparm_query") or "", limit, offset, user=req.user)
            rows = [r for r in rows if acl.can_read(req.user, r["table_name"])]
        else:
            rows, total = [], 0
        return json_response(
            200, {"result": [attachment_meta(store, r, req.base_url) for r in rows]}, {"X-Total-Count": str(total)}
        )
    if first == "file" and second is None:
        if method != "POST":
            return _method_not_allowed("POST")
        missing = [p for p in ("table_name", "table_sys_id", "file_name") if not req.param(p)]
        if missing:
            return error_response(400, "Missing parameter", "Missing required parameter(s): " + ", ".join(missing))
        ctype = req.headers.get("content-type")
        if not ctype:
            return error_response(
                400, "Content-Type header is missing", "The Content-Type header is mandatory for attachment uploads"
            )
        return _create_attachment(
            store,
            req,
            req.param("table_name") or "",
            req.param("table_sys_id") or "",
            req.param("file_name") or "",
            ctype,
            req.body,
        )
    if first == "upload" and second is None:
        if method != "POST":
            return _method_not_allowed("POST")
        parsed = _parse_multipart(req)
        if parsed is None:
            return error_response(415, "Unsupported Media Type", "Use multipart/form-data")
        fields, file_part = parsed
        missing = [p for p in ("table_name", "table_sys_id") if not fields.get(p)]
        if missing or file_part is None:
            return error_response(
                400,
                "Missing parameter",
                "Missing required part(s): " + ", ".join(missing + ([] if file_part else ["file"])),
            )
        filename, ctype, data = file_part
        return _create_attachment(store, req, fields["table_name"], fields["table_sys_id"], filename, ctype, data)
    sys_id = first
    rec = store.get("sys_attachment", sys_id)
    if not _attachment_visible(req, rec):
        return error_response(404, "No Record found", "Attachment doesn't exist or ACL restricts the retrieval")
    assert rec is not None
    if second == "file":
        if method not in ("GET", "HEAD"):
            return _method_not_allowed("GET")
        data = store.attachment_data(sys_id) or b""
        meta = json.dumps(attachment_meta(store, rec, req.base_url), ensure_ascii=True, separators=(",", ":"))
        return SimResponse(
            200,
            data,
            {"Content-Type": rec["content_type"] or "application/octet-stream", "X-Attachment-Metadata": meta},
        )
    if method in ("GET", "HEAD"):
        return json_response(200, {"result": attachment_meta(store, rec, req.base_url)})
    if method == "DELETE":
        if not acl.can_delete(req.user, "sys_attachment") or not acl.can_write(req.user, rec["table_name"]):
            return _acl_denied("Delete")
        store.delete("sys_attachment", sys_id, _user_name(req))
        return SimResponse(204)
    return _method_not_allowed("GET, DELETE")


# --------------------------------------------------------------------------- batch API


def batch_dispatch(store: Store, cfg: ApiConfig, req: SimRequest) -> SimResponse:
    if req.method != "POST":
        return _method_not_allowed("POST")
    body = _parse_body(req)
    if isinstance(body, SimResponse):
        return body
    items = body.get("rest_requests")
    if not isinstance(items, list):
        return error_response(400, "Invalid batch request", "rest_requests must be a list")
    started = time.monotonic()
    serviced, unserviced = [], []
    for item in items:
        if not isinstance(item, dict):
            continue
        item_id = str(item.get("id", ""))
        if time.monotonic() - started > BATCH_TIMEOUT:
            unserviced.append(item_id)
            continue
        t0 = time.monotonic()
        resp = _batch_item(store, cfg, req, item)
        headers = (
            [] if item.get("exclude_response_headers") else [{"name": k, "value": v} for k, v in resp.headers.items()]
        )
        serviced.append(
            {
                "id": item_id,
                "body": base64.b64encode(resp.body).decode("ascii"),
                "status_code": resp.status,
                "status_text": _status_text(resp.status),
                "headers": headers,
                "execution_time": int((time.monotonic() - t0) * 1000),
            }
        )
    return json_response(
        200,
        {
            "batch_request_id": str(body.get("batch_request_id", "")),
            "serviced_requests": serviced,
            "unserviced_requests": unserviced,
        },
    )


def _status_text(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return ""


def _batch_item(store: Store, cfg: ApiConfig, parent: SimRequest, item: dict) -> SimResponse:
    method = str(item.get("method", "")).upper()
    url = str(item.get("url", ""))
    if not method or not url:
        return error_response(400, "Invalid batch item", "method and url are required")
    parts = urlsplit(url)
    headers = {}
    for h in item.get("headers") or []:
        if isinstance(h, dict) and "name" in h:
            headers[str(h["name"]).lower()] = str(h.get("value", ""))
    try:
        body = base64.b64decode(item.get("body") or "", validate=False)
    except (ValueError, TypeError):
        return error_response(400, "Invalid batch item", "body must be base64")
    sub = SimRequest(
        method, parts.path, parse_qsl(parts.query, keep_blank_values=True), headers, body, parent.base_url, parent.user
    )
    if _BATCH_RE.match(sub.path):
        return error_response(400, "Invalid batch item", "Nested batch requests are not supported")
    return dispatch(store, cfg, sub)


# --------------------------------------------------------------------------- dispatch


def dispatch(store: Store, cfg: ApiConfig, req: SimRequest) -> SimResponse:
    """Route an authenticated API request to its handler."""
    bad = _check_accept(req)
    if bad is not None:
        return bad
    try:
        m = _TABLE_RE.match(req.path)
        if m:
            return table_dispatch(store, cfg, req, m)
        m = _ATTACH_RE.match(req.path)
        if m:
            return attachment_dispatch(store, req, m)
        if _BATCH_RE.match(req.path):
            return batch_dispatch(store, cfg, req)
    except StoreError as exc:
        return error_response(exc.status, exc.message, exc.detail)
    except PolicyError as exc:  # pragma: no cover - PolicyError is a StoreError
        return error_response(403, exc.message, exc.detail)
    except Exception as exc:  # noqa: BLE001
        log.exception("snowsim: unexpected error on %s %s", req.method, req.path)
        return error_response(500, "Internal server error", f"{type(exc).__name__}: {exc}")
    return error_response(400, "Requested URI does not represent any resource", req.path)


# --------------------------------------------------------------------------- Starlette app


def _to_starlette(resp: SimResponse, head: bool = False) -> Response:
    headers = dict(resp.headers)
    media = headers.pop("Content-Type", None)
    return Response(b"" if head else resp.body, status_code=resp.status, headers=headers, media_type=media)


def create_app(
    store: Store,
    *,
    base_url: str | None = None,
    invalid_query_returns_no_rows: bool = False,
    token_lifetime: int = 1800,
    extra_routes: list | None = None,
    middleware: list | None = None,
) -> Starlette:
    cfg = ApiConfig(
        base_url=base_url.rstrip("/") if base_url else None, invalid_query_returns_no_rows=invalid_query_returns_no_rows
    )
    authenticator = Authenticator(store, token_lifetime=token_lifetime)

    def base_of(request: Request) -> str:
        return cfg.base_url or f"{request.url.scheme}://{request.url.netloc}"

    async def api_endpoint(request: Request) -> Response:
        body = await request.body()
        user = authenticator.authenticate_header(request.headers.get("authorization"))
        if user is None:
            return _to_starlette(unauthorized())
        req = SimRequest(
            request.method,
            request.url.path,
            request.query_params.multi_items(),
            {k.lower(): v for k, v in request.headers.items()},
            body,
            base_of(request),
            user,
        )
        return _to_starlette(dispatch(store, cfg, req), head=request.method == "HEAD")

    async def oauth_endpoint(request: Request) -> Response:
        body = await request.body()
        ctype = request.headers.get("content-type", "").lower()
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if "application/x-www-form-urlencoded" not in ctype:
            return JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The request body must be application/x-www-form-urlencoded",
                },
                status_code=400,
                headers=no_store,
            )
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            result = authenticator.token_request(form, request.headers.get("authorization"))
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=no_store)
        return JSONResponse(result, headers=no_store)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        detail = getattr(exc, "detail", "") or ""
        if status == 404:
            resp = error_response(404, "Requested URI does not represent any resource", request.url.path)
        elif status == 405:
            resp = error_response(405, "Method not Supported", "Requested method is not supported by this resource")
        else:
            resp = error_response(status, _status_text(status) or "Error", str(detail))
        return _to_starlette(resp)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("snowsim: unhandled error", exc_info=exc)
        return _to_starlette(error_response(500, "Internal server error", f"{type(exc).__name__}"))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes = [
        Route("/oauth_token.do", oauth_endpoint, methods=["POST"]),
        Route("/api/{rest:path}", api_endpoint, methods=methods),
    ]
    routes += list(extra_routes or [])
    app = Starlette(
        routes=routes,
        middleware=middleware or None,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.store = store
    app.state.authenticator = authenticator
    app.state.config = cfg
    app.state.token_lifetime = token_lifetime
    return app
