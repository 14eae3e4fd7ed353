"""A plain, read-only HTML view of the simulated instance, to watch the vendor's side in a demo.

Routes: ``/`` and ``/snowsim/`` (tables), ``/snowsim/table/{table}`` (records, newest update
first, ``?q=<encoded query>``, ``?page=N``) and ``/snowsim/table/{table}/{sys_id}`` (fields,
journal newest first, attachments). Pages refresh themselves every 10 s (``?refresh=0`` turns
it off, ``?refresh=N`` changes it); there is no JavaScript.

Access: open to clients on the loopback interface (the demo runs on one machine); any other
client must send admin basic auth. Everything here reads the store directly and never writes.
"""

from __future__ import annotations

import asyncio
import ipaddress
from html import escape
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from snowsim.faults import check_admin
from snowsim.tables import JOURNAL_LABELS, REFERENCE, TABLES

__all__ = ["routes"]

PAGE_SIZE = 50
DEFAULT_REFRESH = 10
TASK_COLUMNS = ("number", "short_description", "state", "priority", "assignment_group", "assigned_to", "sys_updated_on")

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#293e40;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:baseline}
header a{color:#fff}
main{padding:1rem 1.2rem;max-width:90rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d0d0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f1}
caption{text-align:left;font-weight:600;padding:.4rem 0}
a{color:#0b5394}
a:focus,input:focus,button:focus{outline:3px solid #f0a30a;outline-offset:1px}
.journal{list-style:none;padding:0}
.journal li{background:#fff;border:1px solid #d0d0d0;border-left:6px solid #8aa;margin:.5rem 0;padding:.5rem .8rem}
.journal li.work_notes{border-left-color:#c9a227;background:#fffbea}
.journal .meta{font-size:.9rem;color:#444}
.journal p{white-space:pre-wrap;margin:.3rem 0 0}
.muted{color:#555}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.8rem;
border:1px solid #d0d0d0}
dl.fields dt{font-weight:600}
dl.fields dd{margin:0;white-space:pre-wrap;word-break:break-word}
nav.pager{margin:.6rem 0;display:flex;gap:1rem}
"""


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


def _guard(request: Request) -> Response | None:
    if _is_loopback(request):
        return None
    return check_admin(request)


def _refresh(request: Request) -> int:
    try:
        return max(0, min(3600, int(request.query_params.get("refresh", DEFAULT_REFRESH))))
    except ValueError:
        return DEFAULT_REFRESH


def _page(title: str, body: str, refresh: int = 0, crumbs: list[tuple[str, str]] | None = None) -> HTMLResponse:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    trail = " › ".join(
        f'<a href="{escape(href)}">{escape(label)}</a>' if href else escape(label) for label, href in crumbs or []
    )
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
{meta}<title>{escape(title)} · snowsim</title><style>{STYLE}</style></head>
<body><header><strong><a href="/snowsim/">snowsim</a></strong><nav aria-label="Breadcrumb">{trail}</nav></header>
<main id="main"><h1>{escape(title)}</h1>
{body}
<p class="muted">Read-only view of the simulated ServiceNow instance.
{f"Refreshes every {refresh} s." if refresh else "Auto refresh is off."}</p></main></body></html>"""
    return HTMLResponse(html)


def _store(request: Request) -> Any:
    return request.app.state.store


def _label(table: str, name: str) -> str:
    field = TABLES[table].fields.get(name)
    return field.label if field and field.label else name


def _display(table: str, name: str, value: str, refs: dict[str, dict[str, str]]) -> str:
    field = TABLES[table].fields.get(name)
    if field is None or value == "":
        return value
    if field.choices:
        return field.choice_label(value)
    if field.type == REFERENCE and field.reference:
        return refs.get(field.reference, {}).get(value, value)
    return value


def _references(store: Any, table: str, rows: list[dict[str, str]], names: list[str]) -> dict[str, dict[str, str]]:
    wanted: dict[str, set[str]] = {}
    for name in names:
        field = TABLES[table].fields.get(name)
        if field is not None and field.type == REFERENCE and field.reference in TABLES:
            wanted.setdefault(field.reference, set()).update(r.get(name, "") for r in rows)
    return {ref: store.display_map(ref, ids) for ref, ids in wanted.items()}


def _columns(table: str) -> list[str]:
    t = TABLES[table]
    if "number" in t.fields:
        return [c for c in TASK_COLUMNS if c in t.fields]
    columns = [t.display_field] if t.display_field in t.fields and t.display_field != "sys_id" else []
    for f in t.stored_fields():
        if f.name not in columns and not f.name.startswith("sys_") and len(columns) < 5:
            columns.append(f.name)
    return columns + ["sys_updated_on" if "sys_updated_on" in t.fields else "sys_created_on"]


# -- views --------------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    denied = _guard(request)
    if denied:
        return denied
    store = _store(request)

    def counts() -> list[tuple[str, str, int]]:
        return [(t.name, t.label, store.count(t.name)) for t in TABLES.values()]

    rows = "".join(
        f'<tr><td><a href="/snowsim/table/{escape(name)}">{escape(label)}</a></td>'
        f"<td><code>{escape(name)}</code></td><td>{count}</td></tr>"
        for name, label, count in await asyncio.to_thread(counts)
    )
    body = f"""<table><caption>Tables</caption>
<thead><tr><th scope="col">Table</th><th scope="col">Name</th><th scope="col">Records</th></tr></thead>
<tbody>{rows}</tbody></table>"""
    return _page("Tables", body, _refresh(request), [("Tables", "")])


async def table_list(request: Request) -> Response:
    denied = _guard(request)
    if denied:
        return denied
    table = request.path_params["table"]
    if table not in TABLES:
        return _page("No such table", f"<p>There is no table <code>{escape(table)}</code>.</p>")
    store = _store(request)
    query = request.query_params.get("q", "")
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    order = "ORDERBYDESCsys_updated_on" if "sys_updated_on" in TABLES[table].fields else "ORDERBYDESCsys_created_on"
    order += "^ORDERBYsys_id"  # snowsim's own view pages stably (the API shuffles ties, like a real instance)
    encoded = f"{query}^{order}" if query else order
    columns = _columns(table)

    def load() -> tuple[list[dict[str, str]], int, dict[str, dict[str, str]]]:
        rows, total = store.query(table, encoded, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return rows, total, _references(store, table, rows, columns)

    try:
        rows, total, refs = await asyncio.to_thread(load)
    except Exception as exc:  # noqa: BLE001 - show a bad query instead of failing
        return _page("Invalid query", f"<p>{escape(str(exc))}</p>")
    head = "".join(f'<th scope="col">{escape(_label(table, c))}</th>' for c in columns)
    body_rows = []
    for row in rows:
        cells = []
        for i, column in enumerate(columns):
            text = escape(_display(table, column, row.get(column, ""), refs))
            if i == 0:
                text = f'<a href="/snowsim/table/{escape(table)}/{escape(row["sys_id"])}">{text or "(empty)"}</a>'
            cells.append(f"<td>{text}</td>")
        body_rows.append(f"<tr>{''.join(cells)}</tr>")
    refresh = _refresh(request)
    pages = max(1, -(-total // PAGE_SIZE))

    def link(p: int) -> str:
        params = {k: v for k, v in (("q", query), ("page", str(p)), ("refresh", str(refresh))) if v}
        return f"/snowsim/table/{escape(table)}?{escape(urlencode(params))}"

    pager = []
    if page > 1:
        pager.append(f'<a href="{link(page - 1)}" rel="prev">Previous</a>')
    pager.append(f"<span>Page {page} of {pages} ({total} records)</span>")
    if page < pages:
        pager.append(f'<a href="{link(page + 1)}" rel="next">Next</a>')
    body = f"""<form method="get" action="/snowsim/table/{escape(table)}">
<label for="q">Encoded query</label> <input id="q" name="q" size="60" value="{escape(query)}">
<input type="hidden" name="refresh" value="{refresh}"><button type="submit">Filter</button></form>
<nav class="pager" aria-label="Pages">{"".join(pager)}</nav>
<table><caption>{escape(TABLES[table].label)} records</caption><thead><tr>{head}</tr></thead>
<tbody>{"".join(body_rows) or f'<tr><td colspan="{len(columns)}">No records.</td></tr>'}</tbody></table>"""
    return _page(TABLES[table].label, body, refresh, [("Tables", "/snowsim/"), (TABLES[table].label, "")])


async def record(request: Request) -> Response:
    denied = _guard(request)
    if denied:
        return denied
    table, sys_id = request.path_params["table"], request.path_params["sys_id"]
    if table not in TABLES:
        return _page("No such table", f"<p>There is no table <code>{escape(table)}</code>.</p>")
    store = _store(request)
    t = TABLES[table]

    def load() -> tuple[Any, list[dict[str, str]], list[dict[str, str]], dict[str, dict[str, str]]]:
        rec = store.get(table, sys_id)
        if rec is None:
            return None, [], [], {}
        journal = list(reversed(store.journal(sys_id)))
        attachments, _ = store.query("sys_attachment", f"table_sys_id={sys_id}^ORDERBYsys_created_on")
        return rec, journal, attachments, _references(store, table, [rec], list(t.fields))

    rec, journal, attachments, refs = await asyncio.to_thread(load)
    if rec is None:
        response = _page("No Record found", f"<p>No <code>{escape(table)}</code> record {escape(sys_id)}.</p>")
        response.status_code = 404
        return response
    fields = []
    for f in t.fields.values():
        if not f.stored:
            continue
        value = rec.get(f.name, "")
        shown = escape(_display(table, f.name, value, refs))
        if f.type == REFERENCE and value and f.reference in TABLES:
            shown = f'<a href="/snowsim/table/{escape(f.reference)}/{escape(value)}">{shown}</a>'
        raw = f' <span class="muted">({escape(value)})</span>' if (f.choices or f.type == REFERENCE) and value else ""
        fields.append(f"<dt>{escape(f.label or f.name)}</dt><dd>{shown}{raw}</dd>")
    entries = "".join(
        f'<li class="{escape(j["element"])}"><div class="meta">{escape(j["sys_created_on"])} · '
        f"{escape(store.user_display_name(j['sys_created_by']))} ({escape(j['sys_created_by'])}) · "
        f"<strong>{escape(JOURNAL_LABELS.get(j['element'], j['element']))}</strong></div>"
        f"<p>{escape(j['value'])}</p></li>"
        for j in journal
    )
    files = "".join(
        f"<tr><td>{escape(a['file_name'])}</td><td>{escape(a['content_type'])}</td><td>{escape(a['size_bytes'])}</td>"
        f"<td>{escape(a['sys_created_on'])}</td><td>{escape(a['sys_created_by'])}</td></tr>"
        for a in attachments
    )
    title = rec.get("number") or rec.get(t.display_field) or sys_id
    body = f"""<section aria-labelledby="h-journal"><h2 id="h-journal">Activity (newest first)</h2>
{f'<ol class="journal">{entries}</ol>' if entries else "<p>No comments or work notes.</p>"}</section>
<section aria-labelledby="h-att"><h2 id="h-att">Attachments</h2>
{
        '<table><thead><tr><th scope="col">File</th><th scope="col">Type</th><th scope="col">Bytes</th>'
        '<th scope="col">Added</th><th scope="col">By</th></tr></thead><tbody>' + files + "</tbody></table>"
        if files
        else "<p>No attachments.</p>"
    }</section>
<section aria-labelledby="h-fields"><h2 id="h-fields">Fields</h2><dl class="fields">{"".join(fields)}</dl></section>"""
    return _page(
        f"{t.label} {title}",
        body,
        _refresh(request),
        [("Tables", "/snowsim/"), (t.label, f"/snowsim/table/{table}"), (str(title), "")],
    )


async def root(request: Request) -> Response:
    return RedirectResponse("/snowsim/", status_code=302)


def routes() -> list[Route]:
    return [
        Route("/", root, methods=["GET"]),
        Route("/snowsim", root, methods=["GET"]),
        Route("/snowsim/", home, methods=["GET"]),
        Route("/snowsim/table/{table}", table_list, methods=["GET"]),
        Route("/snowsim/table/{table}/{sys_id}", record, methods=["GET"]),
    ]
