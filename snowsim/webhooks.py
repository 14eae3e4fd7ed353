"""Outbound notifications from snowsim, like a vendor's async business rule calling RESTMessageV2.

Every committed write in the store reaches :meth:`WebhookDispatcher.listener`, which matches it
against the configured :class:`WebhookTarget` s, decides the webhook faults (drop, duplicate,
delay, reorder) and queues a delivery. A background thread POSTs the JSON payload with httpx.

Signature (see :func:`sign` / :func:`verify_signature`)::

    X-Snowsim-Timestamp: <unix seconds>
    X-Snowsim-Signature: sha256=<hex(HMAC-SHA256(key=secret, msg=f"{timestamp}.{body}"))>
    X-Snowsim-Event-Id:  <event id; the same on a duplicate delivery>

where ``body`` is the exact request body bytes (UTF-8 JSON). Like a real instance, failed
deliveries are **not retried** unless a target sets ``retries``; receivers need a polling
safety net either way.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from snowsim.faults import FaultController, check_admin, error_body
from snowsim.tls import client_verify

__all__ = [
    "WebhookTarget",
    "WebhookDispatcher",
    "sign",
    "verify_signature",
    "admin_routes",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "EVENT_ID_HEADER",
]

SIGNATURE_HEADER = "X-Snowsim-Signature"
TIMESTAMP_HEADER = "X-Snowsim-Timestamp"
EVENT_ID_HEADER = "X-Snowsim-Event-Id"
LOG_SIZE = 500
REORDER_MAX_HOLD_S = 5.0  # a held-back notification goes out after the next one, or after this long
PAYLOAD_STYLES = ("script", "rich")
DEFAULT_WORKERS = 4  # async business rules run on several scheduler workers: no delivery order


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with secret>``."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str | None,
    body: bytes | str,
    header: str | None,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """True when ``header`` is the signature of ``body`` at ``timestamp`` and the timestamp is fresh.

    Receivers pass the raw request body (before JSON parsing), the ``X-Snowsim-Timestamp`` header
    and the ``X-Snowsim-Signature`` header. The MAC may be hex (what snowsim sends) or Base64 (what a
    ServiceNow script using ``generateMac`` produces). A timestamp further than ``tolerance_s`` from ``now``
    (either direction) fails, which stops replays of old captured requests.
    """
    if not secret or not header or timestamp is None:
        return False
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        return False
    expected = sign(secret, ts, body)
    given = header.strip()
    if hmac.compare_digest(expected, given):
        return True
    # A real instance computing the MAC with (Glide)CertificateEncryption.generateMac gets Base64, not hex.
    as_base64 = "sha256=" + base64.b64encode(bytes.fromhex(expected[len("sha256=") :])).decode("ascii")
    return hmac.compare_digest(as_base64, given)


@dataclass
class WebhookTarget:
    """One outbound notification target (the vendor's REST message + business rule condition)."""

    url: str
    secret: str = ""
    tables: tuple[str, ...] = ("incident",)  # empty = every table
    operations: tuple[str, ...] = ("insert", "update")
    skip_updated_by: tuple[str, ...] = ()  # e.g. the integration user, to avoid echo loops
    require_correlation_id: bool = False  # only records with a correlation_id (the BR condition)
    verify: bool | str = True  # True, False or a CA bundle path (for https targets)
    retries: int = 0  # real instances do not retry; >0 retries with 1 s, 2 s, 4 s ... back-off
    timeout_s: float = 5.0
    payload: str = "script"  # "script": what the business rule in servicenow-outbound.md builds; "rich": snapshots
    # Extra request headers, as a real REST message record sets them (e.g. ``Authorization: Token …``)
    headers: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("webhook url must start with http:// or https://")
        self.tables = tuple(self.tables)
        self.operations = tuple(self.operations)
        self.skip_updated_by = tuple(self.skip_updated_by)
        bad = set(self.operations) - {"insert", "update", "delete"}
        if bad:
            raise ValueError(f"unknown operation(s): {', '.join(sorted(bad))}")
        self.retries = max(0, int(self.retries))
        self.headers = {str(k): str(v) for k, v in dict(self.headers or {}).items()}
        if self.payload not in PAYLOAD_STYLES:
            raise ValueError(f"payload must be one of {', '.join(PAYLOAD_STYLES)}")

    def matches(self, event: dict[str, Any]) -> bool:
        if self.tables and event.get("table") not in self.tables:
            return False
        if event.get("operation") not in self.operations:
            return False
        record = event.get("record") or {}
        if self.require_correlation_id and not record.get("correlation_id"):
            return False
        return True

    def skips(self, event: dict[str, Any]) -> bool:
        record = event.get("record") or {}
        return bool(self.skip_updated_by) and record.get("sys_updated_by", "") in self.skip_updated_by

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["secret"] = "***" if self.secret else ""
        data["headers"] = dict.fromkeys(self.headers, "***")
        for key in ("tables", "operations", "skip_updated_by"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebhookTarget:
        known = set(cls.__dataclass_fields__)
        data = dict(data)
        if "ca" in data:  # convenience alias
            data["verify"] = data.pop("ca") or True
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown webhook setting(s): {', '.join(unknown)}")
        for key in ("tables", "operations", "skip_updated_by"):
            if isinstance(data.get(key), str):
                data[key] = tuple(x.strip() for x in data[key].split(",") if x.strip())
        return cls(**data)


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    target: WebhookTarget = field(compare=False)
    payload: dict[str, Any] = field(compare=False)
    attempt: int = field(default=1, compare=False)
    faults: tuple[str, ...] = field(default=(), compare=False)
    held: bool = field(default=False, compare=False)
    done: bool = field(default=False, compare=False)


def build_payload(
    event: dict[str, Any], style: str = "rich", journal_entry: Callable[[str, str], str] | None = None
) -> dict[str, Any]:
    """The notification body for one store event (``sent_at`` is filled in at send time).

    ``style="script"`` is what the business rule in ``docs/servicenow-outbound.md`` builds: a few
    fields of ``current`` plus the newest comment and work note as display text
    (``getJournalEntry(1)``, from ``journal_entry(sys_id, element)``). ``"rich"`` adds the full record
    snapshot, the changed fields and the journal rows of this change.
    """
    record = dict(event.get("record") or {})
    if style == "script":
        sys_id = event.get("sys_id") or record.get("sys_id", "")

        def latest(element: str) -> str:
            if journal_entry is not None:
                return journal_entry(sys_id, element)
            rows = [r for r in event.get("journal") or [] if r.get("element") == element]
            if not rows:
                return ""
            r = rows[-1]
            label = "Additional comments" if element == "comments" else "Work notes"
            return f"{r['sys_created_on']} - {r['sys_created_by']} ({label})\n{r['value']}\n\n"

        return {
            "event_id": uuid.uuid4().hex,
            "table": event.get("table", ""),
            "operation": event.get("operation", ""),
            "sys_id": sys_id,
            "number": record.get("number", ""),
            "correlation_id": record.get("correlation_id", ""),
            "sys_updated_on": record.get("sys_updated_on", ""),
            "sys_updated_by": record.get("sys_updated_by", ""),
            "sys_mod_count": record.get("sys_mod_count", ""),
            "state": record.get("state", ""),
            "short_description": record.get("short_description", ""),
            "latest_comment": latest("comments"),
            "latest_work_note": latest("work_notes"),
            "sent_at": "",
        }
    return {
        "event_id": uuid.uuid4().hex,
        "table": event.get("table", ""),
        "operation": event.get("operation", ""),
        "sys_id": event.get("sys_id") or record.get("sys_id", ""),
        "number": record.get("number", ""),
        "correlation_id": record.get("correlation_id", ""),
        "sys_updated_on": record.get("sys_updated_on", ""),
        "sys_updated_by": record.get("sys_updated_by", ""),
        "sys_mod_count": record.get("sys_mod_count", ""),
        "state": record.get("state", ""),
        "record": record,
        "changed_fields": list(event.get("changed_fields") or []),
        "journal": [dict(row) for row in event.get("journal") or []],
        "sent_at": "",
    }


class WebhookDispatcher:
    """Queues store events and delivers them to the targets from one background thread."""

    def __init__(
        self,
        targets: Iterable[WebhookTarget] = (),
        controller: FaultController | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        workers: int = DEFAULT_WORKERS,
        journal_entry: Callable[[str, str], str] | None = None,
    ) -> None:
        self.controller = controller or FaultController()
        self.workers = max(1, int(workers))
        self.journal_entry = journal_entry  # (sys_id, element) -> newest entry as display text
        self.clock = clock
        self.transport = transport
        self._targets: dict[str, WebhookTarget] = {t.id: t for t in targets}
        self._heap: list[_Delivery] = []
        self._held: dict[str, list[_Delivery]] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._client_lock = threading.Lock()
        self._stopping = False
        self._in_flight = 0
        self._clients: dict[str, httpx.Client] = {}
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self.retry_base_s = 1.0  # back-off before retry n is retry_base_s * 2**(n-1)

    # -- targets -----------------------------------------------------------------------------
    @property
    def targets(self) -> list[WebhookTarget]:
        return list(self._targets.values())

    def add_target(self, target: WebhookTarget) -> WebhookTarget:
        with self._cond:
            self._targets[target.id] = target
        return target

    def remove_target(self, target_id: str) -> bool:
        with self._cond:
            removed = self._targets.pop(target_id, None)
            client = self._clients.pop(target_id, None)
        if client:
            client.close()
        return removed is not None

    def clear_targets(self) -> None:
        for target_id in list(self._targets):
            self.remove_target(target_id)

    # -- intake ------------------------------------------------------------------------------
    def listener(self, event: dict[str, Any]) -> None:
        """Store listener: match, decide faults and queue (never blocks on the network)."""
        for target in self.targets:
            if not target.matches(event):
                continue
            payload = build_payload(event, target.payload, self.journal_entry)
            if target.skips(event):
                self._log(target, payload, status="skipped", detail="sys_updated_by is in skip_updated_by")
                continue
            plan = self.controller.webhook_plan()
            if plan["drop"]:
                self._log(target, payload, status="dropped", faults=("drop",))
                continue
            faults = tuple(name for name in ("duplicate", "reorder") if plan[name])
            if plan["delay_s"] > 0:
                faults += ("delay",)
            now = self.clock()
            copies = 2 if plan["duplicate"] else 1
            with self._cond:
                for copy in range(copies):
                    delivery = _Delivery(
                        due=now + plan["delay_s"],
                        seq=next(self._seq),
                        target=target,
                        payload=payload,
                        faults=faults + (("copy2",) if copy else ()),
                    )
                    if plan["reorder"] and copy == 0:
                        delivery.held = True
                        delivery.due += REORDER_MAX_HOLD_S
                        self._held.setdefault(target.id, []).append(delivery)
                    heapq.heappush(self._heap, delivery)
                self._cond.notify_all()

    # -- worker ------------------------------------------------------------------------------
    def start(self) -> WebhookDispatcher:
        with self._cond:
            if any(t.is_alive() for t in self._threads):
                return self
            self._stopping = False
            self._threads = [
                threading.Thread(target=self._run, name=f"snowsim-webhooks-{i}", daemon=True)
                for i in range(self.workers)
            ]
            for thread in self._threads:
                thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def pending(self) -> int:
        with self._cond:
            return sum(1 for d in self._heap if not d.done) + self._in_flight

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight (held-back deliveries go out now). For tests."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for held in self._held.values():
                for delivery in held:
                    delivery.due = min(delivery.due, self.clock())
            heapq.heapify(self._heap)
            self._cond.notify_all()
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            time.sleep(0.01)
        return False

    def clear(self) -> None:
        """Forget queued deliveries and the log (admin reset)."""
        with self._cond:
            self._heap.clear()
            self._held.clear()
        self.log.clear()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    while self._heap and self._heap[0].done:
                        heapq.heappop(self._heap)
                    if self._heap:
                        wait = self._heap[0].due - self.clock()
                        if wait <= 0:
                            delivery = heapq.heappop(self._heap)
                            break
                        self._cond.wait(min(wait, 0.5))
                    else:
                        self._cond.wait(0.5)
                delivery.done = True
                self._in_flight += 1
                if delivery.held:
                    self._remove_held(delivery)
                released: list[_Delivery] = []
                if not delivery.held:  # release what was held back before this one was queued
                    held = self._held.get(delivery.target.id, [])
                    released = [item for item in held if item.seq < delivery.seq]
                    for item in released:
                        item.done = True
                        held.remove(item)
                    if not held:
                        self._held.pop(delivery.target.id, None)
                    self._in_flight += len(released)
            try:
                self._deliver(delivery)
                for item in released:  # a held-back notification arrives after the later one
                    self._deliver(item)
            finally:
                with self._cond:
                    self._in_flight -= 1 + len(released)

    def _remove_held(self, delivery: _Delivery) -> None:
        held = self._held.get(delivery.target.id, [])
        if delivery in held:
            held.remove(delivery)
        if not held:
            self._held.pop(delivery.target.id, None)

    def _client(self, target: WebhookTarget) -> httpx.Client:
        with self._client_lock:
            return self._client_locked(target)

    def _client_locked(self, target: WebhookTarget) -> httpx.Client:
        client = self._clients.get(target.id)
        if client is None:
            if self.transport is not None:
                client = httpx.Client(transport=self.transport, timeout=target.timeout_s)
            else:
                client = httpx.Client(verify=client_verify(target.verify), timeout=target.timeout_s)
            self._clients[target.id] = client
        return client

    def _deliver(self, delivery: _Delivery) -> None:
        target, payload = delivery.target, dict(delivery.payload)
        if target.id not in self._targets:
            return
        payload["sent_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        timestamp = int(time.time())
        headers = {
            **target.headers,
            "Content-Type": "application/json",
            "User-Agent": "snowsim-webhooks/1",
            TIMESTAMP_HEADER: str(timestamp),
            EVENT_ID_HEADER: payload["event_id"],
        }
        if target.secret:
            headers[SIGNATURE_HEADER] = sign(target.secret, timestamp, body)
        started = time.monotonic()
        status, detail = "failed", ""
        code: int | None = None
        try:
            response = self._client(target).post(target.url, content=body, headers=headers)
            code = response.status_code
            status = "delivered" if 200 <= code < 300 else "failed"
            detail = "" if status == "delivered" else response.text[:200]
        except httpx.HTTPError as exc:
            detail = f"{type(exc).__name__}: {exc}"[:200]
        self._log(
            target,
            payload,
            status=status,
            code=code,
            detail=detail,
            attempt=delivery.attempt,
            faults=delivery.faults,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        if status == "failed" and delivery.attempt <= target.retries:
            retry = _Delivery(
                due=self.clock() + self.retry_base_s * 2 ** (delivery.attempt - 1),
                seq=next(self._seq),
                target=target,
                payload=delivery.payload,
                attempt=delivery.attempt + 1,
                faults=delivery.faults,
            )
            with self._cond:
                heapq.heappush(self._heap, retry)
                self._cond.notify_all()

    def _log(
        self,
        target: WebhookTarget,
        payload: dict[str, Any],
        *,
        status: str,
        code: int | None = None,
        detail: str = "",
        attempt: int = 1,
        faults: tuple[str, ...] = (),
        duration_ms: float | None = None,
    ) -> None:
        self.log.append(
            {
                "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "event_id": payload["event_id"],
                "target": target.id,
                "url": target.url,
                "table": payload["table"],
                "operation": payload["operation"],
                "sys_id": payload["sys_id"],
                "number": payload["number"],
                "sys_mod_count": payload["sys_mod_count"],
                "status": status,
                "http_status": code,
                "attempt": attempt,
                "faults": list(faults),
                "duration_ms": duration_ms,
                "detail": detail,
            }
        )


def admin_routes(dispatcher: WebhookDispatcher) -> list[Route]:
    """``GET/POST/DELETE /snowsim/admin/webhooks`` and ``DELETE /snowsim/admin/webhooks/{id}``."""

    async def webhooks(request: Request) -> Response:
        denied = check_admin(request)
        if denied:
            return denied
        if request.method == "POST":
            try:
                data = json.loads(await request.body() or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("body must be a JSON object")
                target = dispatcher.add_target(WebhookTarget.from_dict(data))
            except (ValueError, TypeError) as exc:
                return JSONResponse(error_body("Invalid webhook", str(exc)), 400)
            return JSONResponse({"result": target.public()}, 201)
        if request.method == "DELETE":
            dispatcher.clear_targets()
            return Response(status_code=204)
        try:
            limit = max(0, min(LOG_SIZE, int(request.query_params.get("limit", "100"))))
        except ValueError:
            limit = 100
        log = list(dispatcher.log)[-limit:] if limit else []
        return JSONResponse(
            {
                "targets": [t.public() for t in dispatcher.targets],
                "pending": dispatcher.pending(),
                "log": list(reversed(log)),
            }
        )

    async def webhook(request: Request) -> Response:
        denied = check_admin(request)
        if denied:
            return denied
        if dispatcher.remove_target(request.path_params["target_id"]):
            return Response(status_code=204)
        return JSONResponse(error_body("No Record found", "No such webhook target"), 404)

    return [
        Route("/snowsim/admin/webhooks", webhooks, methods=["GET", "POST", "DELETE"]),
        Route("/snowsim/admin/webhooks/{target_id}", webhook, methods=["DELETE"]),
    ]
