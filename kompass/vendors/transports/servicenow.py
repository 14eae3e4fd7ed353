"""ServiceNow transport: the Table API over HTTPS, with a per-vendor CA bundle.

It implements :class:`kompass.vendors.transports.base.Transport` (create, update, journal entries,
attachments, fetch one / changed since / journal since / many by sys_id, and the journal and attachments of many
records in one query each) on ``httpx``, with:

- timeouts per connection (connect 5 s, the rest ``timeout_seconds``);
- basic auth, or OAuth client credentials with the token renewed before it expires and fetched again
  once on a 401 (a refresh token, when the instance gives one, is tried first);
- ``Retry-After`` honoured on 429 (any method: a 429 means the request was not run) and on 503 for
  reads, a few times and capped, before the error goes to the caller's durable back-off;
- error bodies that may be HTML (a load balancer's 502/503/504, a hibernating instance's 200): the
  message says so instead of failing on ``.json()``.

Field names are validated before any request: ServiceNow drops unknown query terms silently, which would
widen a query to every row (contract §2).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
SYS_ID = re.compile(r"^[0-9a-f]{32}$")


class TransportError(Exception):
    """A call to the vendor failed; ``retryable`` says whether trying again later may help.

    ``refused`` marks a write the vendor will never accept as it stands (403: an ACL, a business rule or a
    data policy, e.g. a Closed incident is read-only): it is shown to an agent, not retried.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retryable: bool = False, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after

    @property
    def refused(self) -> bool:
        return self.status in (400, 403)


#: How many times one call waits out a 429/503 itself before giving up to the durable back-off.
INLINE_RETRIES = 2
#: The longest ``Retry-After`` waited inline (seconds); a longer one goes to the back-off at once.
MAX_INLINE_WAIT = 5.0


@dataclass
class CheckResult:
    ok: bool
    detail: str
    latency_ms: float


class ServiceNowTransport:
    def __init__(self, connection, *, client: httpx.Client | None = None):
        self.connection = connection
        self._client = client
        self._token: tuple[str, float] | None = None
        self._refresh_token = ""

    # -- plumbing ---------------------------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext:
        """Trust the connection's CA bundle if it names one, else the system's store. Never unverified."""
        if self.connection.ca_bundle:
            return ssl.create_default_context(cafile=self.connection.ca_bundle)
        return ssl.create_default_context()

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.connection.base_url.rstrip("/"),
                verify=self.ssl_context(),
                timeout=httpx.Timeout(self.connection.timeout_seconds, connect=min(5, self.connection.timeout_seconds)),
                headers={"Accept": "application/json", "User-Agent": "Kompass"},
                trust_env=False,  # proxies and CA overrides come from the connection, not the process
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _auth_headers(self) -> dict[str, str]:
        method = self.connection.auth_method
        if method == "basic":
            pair = f"{self.connection.username}:{self.connection.secret()}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        token, expires = self._token or ("", 0.0)
        if not token or expires <= time.monotonic() + 30:
            token, expires = self._fetch_token()
            self._token = (token, expires)
        return {"Authorization": f"Bearer {token}"}

    def _fetch_token(self) -> tuple[str, float]:
        base = {"client_id": self.connection.username, "client_secret": self.connection.secret()}
        body = None
        if self._refresh_token:
            try:
                body = self._json(
                    self._send(
                        "POST",
                        "/oauth_token.do",
                        data={**base, "grant_type": "refresh_token", "refresh_token": self._refresh_token},
                        authenticate=False,
                    )
                )
            except TransportError:
                self._refresh_token = ""
        if body is None:
            response = self._send(
                "POST", "/oauth_token.do", data={**base, "grant_type": "client_credentials"}, authenticate=False
            )
            body = self._json(response)
        if not isinstance(body, dict) or "access_token" not in body:
            raise TransportError("The vendor's token endpoint answered without an access token.", retryable=True)
        self._refresh_token = body.get("refresh_token", "") or self._refresh_token
        return body["access_token"], time.monotonic() + float(body.get("expires_in", 1800) or 1800)

    def _send(self, method: str, path: str, *, authenticate: bool = True, **kwargs) -> httpx.Response:
        """One call, with the inline waits for 429/503 and one fresh token on a 401 (OAuth)."""
        headers = dict(kwargs.pop("headers", {}) or {})
        renewed = False
        attempt = 0
        while True:
            if authenticate:
                headers.update(self._auth_headers())
            try:
                response = self.client.request(method, path, headers=headers, **kwargs)
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise TransportError(
                        "The vendor's TLS certificate is not trusted. Set the connection's CA bundle.",
                        retryable=False,
                    ) from exc
                raise TransportError(f"Cannot connect to the vendor: {exc}", retryable=True) from exc
            except httpx.TimeoutException as exc:
                raise TransportError("The vendor did not answer in time.", retryable=True) from exc
            except httpx.TransportError as exc:
                raise TransportError(f"The connection to the vendor failed: {exc}", retryable=True) from exc
            status = response.status_code
            if status == 401 and authenticate and self.connection.auth_method != "basic" and not renewed:
                self._token, renewed = None, True  # expired or revoked early: one fresh token, once
                continue
            if status < 400:
                return response
            retry_after = self._retry_after(response)
            may_repeat = status == 429 or (status == 503 and method in ("GET", "HEAD"))
            if may_repeat and attempt < INLINE_RETRIES and (retry_after or 1.0) <= MAX_INLINE_WAIT:
                attempt += 1
                time.sleep(retry_after if retry_after is not None else 1.0)
                continue
            raise TransportError(
                self._error_text(response),
                status=status,
                retryable=status in {408, 409, 429, 500, 502, 503, 504},
                retry_after=retry_after,
            )

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # an HTTP date: let the back-off decide

    @staticmethod
    def _json(response: httpx.Response):
        """The JSON body; a 2xx with an HTML page (a hibernating instance, a proxy) is a retryable error."""
        try:
            return response.json()
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "?").split(";")[0]
            raise TransportError(
                f"HTTP {response.status_code} with a {kind} body instead of JSON (instance down or hibernating?)",
                status=response.status_code,
                retryable=True,
            ) from exc

    @staticmethod
    def _error_text(response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "").split(";")[0] or "non-JSON"
            title = re.search(r"<title>(.*?)</title>", response.text or "", re.IGNORECASE | re.DOTALL)
            suffix = f": {title.group(1).strip()[:120]}" if title else ""
            return f"HTTP {response.status_code} ({kind} page{suffix})"
        if not isinstance(body, dict):
            return f"HTTP {response.status_code}"
        error = body.get("error")
        if isinstance(error, dict):
            return f"HTTP {response.status_code}: {error.get('message', '')} {error.get('detail', '')}".strip()
        return f"HTTP {response.status_code}: {body.get('error_description') or error or ''}".strip()

    # -- Table API --------------------------------------------------------------------------
    def get(self, table: str, sys_id: str, fields: list[str] | None = None) -> dict[str, Any] | None:
        self._check_names(table, fields)
        if not SYS_ID.match(sys_id):
            raise ValueError("Not a sys_id")
        params = {"sysparm_exclude_reference_link": "true"}
        if fields:
            params["sysparm_fields"] = ",".join(fields)
        try:
            return self._json(self._send("GET", f"/api/now/table/{table}/{sys_id}", params=params))["result"]
        except TransportError as exc:
            if exc.status == 404:
                return None
            raise

    def query(
        self,
        table: str,
        conditions: dict[str, str],
        *,
        fields: list[str] | None = None,
        order_by: str = "sys_updated_on",
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict], int]:
        """Rows matching ``field=value`` conditions (names validated: ServiceNow drops unknown terms silently,
        which would widen the result to every row)."""
        self._check_names(table, [*conditions, order_by, *(fields or [])])
        terms = [f"{name}={str(value).replace('^', '')}" for name, value in conditions.items()]
        terms.append(f"ORDERBY{order_by}")
        params = {
            "sysparm_query": "^".join(terms),
            "sysparm_limit": str(limit),
            "sysparm_offset": str(offset),
            "sysparm_exclude_reference_link": "true",
            "sysparm_suppress_pagination_header": "true",
        }
        if fields:
            params["sysparm_fields"] = ",".join(fields)
        response = self._send("GET", f"/api/now/table/{table}", params=params)
        total = int(response.headers.get("X-Total-Count", "0") or 0)
        return self._json(response)["result"], total

    @staticmethod
    def _check_names(table: str, fields) -> None:
        for name in [table, *(fields or [])]:
            if not FIELD_NAME.match(name):
                raise ValueError(f"Invalid table or field name: {name!r}")

    # -- e-bonding (the Transport interface) --------------------------------------------------
    def _list(self, table: str, query: str, *, fields: list[str] | None, limit: int, offset: int = 0) -> list[dict]:
        """A list read with an encoded query built here from validated names only."""
        params = {
            "sysparm_query": query,
            "sysparm_limit": str(limit),
            "sysparm_offset": str(offset),
            "sysparm_exclude_reference_link": "true",
            "sysparm_suppress_pagination_header": "true",
            "sysparm_no_count": "true",
        }
        if fields:
            params["sysparm_fields"] = ",".join(fields)
        return self._json(self._send("GET", f"/api/now/table/{table}", params=params))["result"]

    @staticmethod
    def _value(text: str) -> str:
        """A value inside an encoded query: no separators, no operators' commas where they matter."""
        return str(text).replace("^", "").replace("\n", " ")

    def create(self, table: str, fields: dict) -> dict:
        self._check_names(table, list(fields))
        response = self._send(
            "POST", f"/api/now/table/{table}", params={"sysparm_exclude_reference_link": "true"}, json=fields
        )
        return self._json(response)["result"]

    def update(self, table: str, sys_id: str, fields: dict) -> dict:
        self._check_names(table, list(fields))
        if not SYS_ID.match(sys_id):
            raise ValueError("Not a sys_id")
        response = self._send(
            "PATCH",
            f"/api/now/table/{table}/{sys_id}",
            params={"sysparm_exclude_reference_link": "true"},
            json=fields,
        )
        return self._json(response)["result"]

    def add_journal(self, table: str, sys_id: str, element: str, text: str) -> dict:
        """Append a comment (``comments``) or work note (``work_notes``); returns the whole record after it."""
        if element not in ("comments", "work_notes"):
            raise ValueError("Not a journal field")
        return self.update(table, sys_id, {element: text})

    def add_attachment(self, table: str, sys_id: str, file_name: str, content_type: str, data: bytes) -> dict:
        self._check_names(table, [])
        response = self._send(
            "POST",
            "/api/now/attachment/file",
            params={"table_name": table, "table_sys_id": sys_id, "file_name": file_name},
            headers={"Content-Type": content_type or "application/octet-stream"},
            content=data,
        )
        return self._json(response)["result"]

    def list_attachments(self, table: str, sys_id: str) -> list[dict]:
        """The record's attachments (metadata only), oldest first."""
        self._check_names(table, [])
        if not SYS_ID.match(sys_id):
            raise ValueError("Not a sys_id")
        params = {
            "sysparm_query": f"table_name={table}^table_sys_id={sys_id}^ORDERBYsys_created_on^ORDERBYsys_id",
            "sysparm_limit": "100",
        }
        return self._json(self._send("GET", "/api/now/attachment", params=params))["result"]

    def download_attachment(self, attachment_sys_id: str) -> tuple[dict, bytes]:
        """One attachment's bytes and its metadata (the ``X-Attachment-Metadata`` header, JSON)."""
        if not SYS_ID.match(attachment_sys_id):
            raise ValueError("Not a sys_id")
        response = self._send("GET", f"/api/now/attachment/{attachment_sys_id}/file", headers={"Accept": "*/*"})
        try:
            meta = json.loads(response.headers.get("X-Attachment-Metadata", "") or "{}")
        except ValueError:
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        return meta, response.content

    def fetch(self, table: str, sys_id: str, fields: list[str] | None = None) -> dict | None:
        return self.get(table, sys_id, fields)

    def fetch_many(self, table: str, sys_ids: list[str], fields: list[str] | None = None) -> list[dict]:
        """Records by sys_id, in batches of 50 (``sys_idIN…``)."""
        self._check_names(table, fields)
        ids = [sys_id for sys_id in sys_ids if SYS_ID.match(sys_id)]
        rows: list[dict] = []
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            rows += self._list(table, f"sys_idIN{','.join(chunk)}^ORDERBYsys_id", fields=fields, limit=len(chunk))
        return rows

    def fetch_changed_since(
        self, table: str, since: str, *, fields: list[str] | None = None, limit: int = 200, offset: int = 0
    ) -> list[dict]:
        """Records with ``sys_updated_on >= since`` that carry a correlation id, oldest first, in a stable order."""
        self._check_names(table, fields)
        since = self._value(since) or "1970-01-01 00:00:00"
        query = f"sys_updated_on>={since}^correlation_idISNOTEMPTY^ORDERBYsys_updated_on^ORDERBYsys_id"
        return self._list(table, query, fields=fields, limit=limit, offset=offset)

    def fetch_journal_since(self, table: str, sys_id: str, since: str = "", *, limit: int = 500) -> list[dict]:
        """``sys_journal_field`` rows (comments and work notes) of one record, oldest first."""
        self._check_names(table, [])
        if not SYS_ID.match(sys_id):
            raise ValueError("Not a sys_id")
        query = f"element_id={sys_id}^name={table}^elementINcomments,work_notes"
        if since:
            query += f"^sys_created_on>={self._value(since)}"
        query += "^ORDERBYsys_created_on^ORDERBYsys_id"
        fields = ["sys_id", "element", "element_id", "value", "sys_created_on", "sys_created_by"]
        return self._list("sys_journal_field", query, fields=fields, limit=limit)

    def fetch_journal_many(self, table: str, sys_ids: list[str], since: str = "", *, page: int = 500) -> list[dict]:
        """The journal rows of several records in one query (``element_idIN…``), oldest first, paged in a stable
        order (rows written while we page have later ``sys_created_on`` values: they come at the end)."""
        self._check_names(table, [])
        ids = sorted({sys_id for sys_id in sys_ids if SYS_ID.match(sys_id)})
        rows: list[dict] = []
        for start in range(0, len(ids), 50):
            query = f"element_idIN{','.join(ids[start : start + 50])}^name={table}^elementINcomments,work_notes"
            if since:
                query += f"^sys_created_on>={self._value(since)}"
            query += "^ORDERBYsys_created_on^ORDERBYsys_id"
            fields = ["sys_id", "element", "element_id", "value", "sys_created_on", "sys_created_by"]
            offset = 0
            while True:
                found = self._list("sys_journal_field", query, fields=fields, limit=page, offset=offset)
                rows += found
                if len(found) < page:
                    break
                offset += page
        return rows

    def list_attachments_many(self, table: str, sys_ids: list[str], *, page: int = 500) -> list[dict]:
        """The attachments (metadata) of several records in one query (``table_sys_idIN…``), oldest first."""
        self._check_names(table, [])
        ids = sorted({sys_id for sys_id in sys_ids if SYS_ID.match(sys_id)})
        rows: list[dict] = []
        for start in range(0, len(ids), 50):
            query = f"table_name={table}^table_sys_idIN{','.join(ids[start : start + 50])}"
            query += "^ORDERBYsys_created_on^ORDERBYsys_id"
            offset = 0
            while True:
                params = {"sysparm_query": query, "sysparm_limit": str(page), "sysparm_offset": str(offset)}
                found = self._json(self._send("GET", "/api/now/attachment", params=params))["result"]
                rows += found
                if len(found) < page:
                    break
                offset += page
        return rows

    def find_by_correlation(self, table: str, correlation_id: str, fields: list[str] | None = None) -> list[dict]:
        self._check_names(table, fields)
        query = f"correlation_id={self._value(correlation_id)}^ORDERBYsys_created_on^ORDERBYsys_id"
        return self._list(table, query, fields=fields, limit=10)

    def journal_has_marker(self, table: str, sys_id: str, marker: str) -> bool:
        """Is there already a journal entry carrying ``marker`` (a retried PATCH that did land)?"""
        if not SYS_ID.match(sys_id):
            raise ValueError("Not a sys_id")
        query = f"element_id={sys_id}^name={table}^valueLIKE{self._value(marker)}"
        return bool(self._list("sys_journal_field", query, fields=["sys_id"], limit=1))

    # -- health -----------------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Connect, authenticate and read one record: the connection works end to end."""
        started = time.perf_counter()
        try:
            self.query("sys_user", {"user_name": self.connection.username}, fields=["sys_id"], limit=1)
        except TransportError as exc:
            return CheckResult(False, str(exc), (time.perf_counter() - started) * 1000)
        except (ssl.SSLError, OSError) as exc:
            return CheckResult(False, f"TLS setup failed: {exc}", (time.perf_counter() - started) * 1000)
        return CheckResult(True, "OK", (time.perf_counter() - started) * 1000)
