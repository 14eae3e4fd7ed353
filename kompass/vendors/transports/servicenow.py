"""ServiceNow transport: the Table API over HTTPS, with a per-vendor CA bundle.

Only the parts the foundation needs live here today (connect, authenticate, read and query
records, check the connection). E-bonding builds its outbox and sync on top of this class.
"""

from __future__ import annotations

import base64
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
    """A call to the vendor failed; ``retryable`` says whether trying again later may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


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
                timeout=self.connection.timeout_seconds,
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
        response = self._send(
            "POST",
            "/oauth_token.do",
            data={
                "grant_type": "client_credentials",
                "client_id": self.connection.username,
                "client_secret": self.connection.secret(),
            },
            authenticate=False,
        )
        body = response.json()
        return body["access_token"], time.monotonic() + float(body.get("expires_in", 1800))

    def _send(self, method: str, path: str, *, authenticate: bool = True, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if authenticate:
            headers.update(self._auth_headers())
        try:
            response = self.client.request(method, path, headers=headers, **kwargs)
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise TransportError(
                    "The vendor's TLS certificate is not trusted. Set the connection's CA bundle.", retryable=False
                ) from exc
            raise TransportError(f"Cannot connect to the vendor: {exc}", retryable=True) from exc
        except httpx.TimeoutException as exc:
            raise TransportError("The vendor did not answer in time.", retryable=True) from exc
        if response.status_code >= 400:
            raise TransportError(
                self._error_text(response),
                status=response.status_code,
                retryable=response.status_code in {429, 500, 502, 503, 504},
            )
        return response

    @staticmethod
    def _error_text(response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
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
            return self._send("GET", f"/api/now/table/{table}/{sys_id}", params=params).json()["result"]
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
        return response.json()["result"], total

    @staticmethod
    def _check_names(table: str, fields) -> None:
        for name in [table, *(fields or [])]:
            if not FIELD_NAME.match(name):
                raise ValueError(f"Invalid table or field name: {name!r}")

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
