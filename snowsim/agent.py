"""A simulated vendor service desk working tickets in snowsim through the Table API.

The agent is an ordinary REST client (httpx over HTTPS, trusting snowsim's CA); it never
touches the store directly, so everything it does goes through the same API, business
rules, faults and outbound notifications as any other client.

Life of an incident it picks up (each arrow is one step; waits are scaled by ``speed``)::

    New (1, unassigned)
      -> assigned: assignment_group + assigned_to, state 2, work note
      -> investigating: customer-visible comment + work note
      -> [sometimes] On Hold / Awaiting Caller (3, hold_reason 1) with a question in comments;
         waits for a new comment by someone else (or a timeout); the caller's comment itself resumes it
         (the instance's business rule), otherwise the agent moves it back to In Progress
      -> Resolved (6) with close_code + close_notes + a comment
      -> Closed (7) by the instance's auto-close job (engineers have itil, and closing needs itil_admin);
         a caller comment on the Resolved incident reopens it and the agent works it again

Requested items (sc_req_item) go Open (1) -> Work in Progress (2) -> Closed Complete (3).

Tests drive :meth:`VendorAgent.run_once` (poll, then advance what is due) with a fake clock;
:meth:`VendorAgent.run` loops until a stop event is set (SIGTERM/SIGINT in the CLI).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from snowsim.tls import client_verify

__all__ = ["AgentConfig", "Ticket", "VendorAgent", "AgentError"]

log = logging.getLogger("snowsim.agent")

GROUP_BY_CATEGORY = {
    "network": "Network",
    "database": "Database",
    "software": "Application Support",
    "hardware": "Service Desk",
    "inquiry": "Service Desk",
}
CLOSE_CODES = (
    "Solved (Permanently)",
    "Solved (Work Around)",
    "Solved Remotely (Permanently)",
    "Solved Remotely (Work Around)",
    "Solution provided",
    "Workaround provided",
)
PICKUP_NOTES = (
    "Ticket picked up from the queue.",
    "Triage done; taking this one.",
    "Assigned after triage. Checking monitoring and recent changes.",
)
INVESTIGATION_NOTES = (
    "Checked the service logs; no errors on the server side so far.",
    "Reproduced the problem in the test environment.",
    "Looked at recent changes on the affected configuration item.",
    "Compared with similar incidents from the last 30 days.",
)
CUSTOMER_UPDATES = (
    "Thank you for reporting this. We are looking into it and will update you shortly.",
    "We have started working on your request and will keep you informed.",
    "Our engineers are investigating the issue now.",
)
QUESTIONS = (
    "Could you tell us when the problem started and whether it affects other users?",
    "Please send us the exact error message and a screenshot if possible.",
    "Can you confirm the device name and your location so we can continue?",
)
RESOLUTIONS = (
    "Cleared the cached credentials and restarted the service; the user confirmed access.",
    "Applied the known workaround from the knowledge base.",
    "Replaced the faulty configuration and verified the service is back to normal.",
    "Restarted the affected component; monitoring shows normal behaviour again.",
)
CALLER_PROBLEMS = (
    ("Printer on 3rd floor does not print", "hardware", "The shared printer shows offline for everyone on 3rd floor."),
    ("Cannot connect to VPN", "network", "VPN client fails with a timeout since this morning."),
    ("Email not syncing on phone", "software", "New mail does not arrive on my phone, desktop works."),
    ("Database report is very slow", "database", "The monthly report takes more than 10 minutes to load."),
    ("Password reset needed", "inquiry", "I am locked out after too many attempts."),
    ("Laptop fan is very loud", "hardware", "The laptop fan runs at full speed all the time."),
)


FOLLOW_UPS = (
    "Forgot to add: checked the change calendar too.",
    "Updated the internal ticket reference.",
    "Linked the monitoring alert.",
)
CONFLICTING_EDITS = (
    ("urgency", ("1", "2", "3")),
    ("impact", ("1", "2", "3")),
    ("short_description", ("{short} (vendor triage)", "{short} - investigating")),
    ("description", ("{description}\n\nVendor: reproduced on our side.",)),
)


class AgentError(RuntimeError):
    """A request failed after the agent's retries."""


@dataclass
class AgentConfig:
    """How the simulated vendor behaves. Durations are in seconds at ``speed=1``."""

    url: str = "https://127.0.0.1:8001"
    user: str = "itil.engineer1"
    password: str = "itil.engineer1"
    verify: bool | str = True  # CA bundle path (snowsim's ca.pem), True or False
    speed: float = 1.0  # 2.0 = everything happens twice as fast
    seed: int = 0
    tables: tuple[str, ...] = ("incident", "sc_req_item")
    engineers: tuple[str, ...] = ("itil.engineer1", "itil.engineer2", "itil.engineer3", "itil.engineer4")
    hold_probability: float = 0.3  # chance that an incident is put On Hold / Awaiting Caller
    pickup_s: tuple[float, float] = (5, 20)
    investigate_s: tuple[float, float] = (10, 30)
    resolve_s: tuple[float, float] = (20, 60)
    close_s: tuple[float, float] = (30, 90)
    caller_timeout_s: float = 300  # give up waiting for the caller after this long, then resume
    poll_s: float = 3.0
    create_every: float | None = None  # create an incident from a simulated caller every N seconds
    # several engineers work the queue, each with their own login (demo password = user name)
    engineer_passwords: dict[str, str] | None = None
    burst_probability: float = 0.25  # a quick follow-up update by the same engineer, in the same second
    conflict_probability: float = 0.2  # the engineer edits fields the integration also writes
    max_backoff_s: float = 30.0
    retries: int = 4  # for 429/503/connection errors
    page_size: int = 20

    def scaled(self, seconds: float) -> float:
        return seconds / self.speed if self.speed > 0 else seconds


@dataclass
class Ticket:
    """What the agent remembers about one record it works on."""

    table: str
    sys_id: str
    number: str
    stage: str  # new, assigned, investigating, awaiting_caller, working, resolved, done
    due: float
    held_since: float = 0.0
    hold_journal_ids: set[str] = field(default_factory=set)
    hold_mod_count: int = 0
    asked: bool = False
    engineer: str = ""  # the engineer (user_name) working it; their login makes the updates


class VendorAgent:
    """The vendor's desk: polls for new tickets and works them through their life cycle."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.clock = clock
        self.stop_event = threading.Event()
        self._sleep = sleep or self.stop_event.wait
        self.client = client or httpx.Client(
            base_url=config.url.rstrip("/"),
            auth=(config.user, config.password),
            verify=client_verify(config.verify),
            timeout=httpx.Timeout(30.0, connect=5.0),
            headers={"Accept": "application/json"},
        )
        self._engineer_clients: dict[str, httpx.Client] = {}
        self.tickets: dict[str, Ticket] = {}
        self.actions: list[tuple[str, str, str]] = []  # (number, stage reached, detail), for tests and logs
        self._user_ids: dict[str, str] = {}
        self._group_ids: dict[str, str] = {}
        self._callers: list[str] | None = None
        self._next_create = clock() + config.scaled(config.create_every or 0)
        self.journal_readable = True

    # -- HTTP --------------------------------------------------------------------------------
    def engineer_client(self, engineer: str) -> httpx.Client:
        """The engineer's own session (updates are stamped with their name), the agent's login otherwise."""
        if not engineer or engineer == self.config.user:
            return self.client
        client = self._engineer_clients.get(engineer)
        if client is None:
            password = (self.config.engineer_passwords or {}).get(engineer, engineer)
            client = httpx.Client(
                base_url=self.config.url.rstrip("/"),
                auth=(engineer, password),
                verify=client_verify(self.config.verify),
                timeout=httpx.Timeout(30.0, connect=5.0),
                headers={"Accept": "application/json"},
            )
            self._engineer_clients[engineer] = client
        return client

    def close(self) -> None:
        for client in self._engineer_clients.values():
            client.close()
        self._engineer_clients.clear()
        self.client.close()

    def request(self, method: str, path: str, *, client: httpx.Client | None = None, **kwargs: Any) -> httpx.Response:
        """One API call with back-off on 429/503 (Retry-After) and connection errors."""
        attempt = 0
        client = client or self.client
        while True:
            attempt += 1
            try:
                response = client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt > self.config.retries or self.stop_event.is_set():
                    raise AgentError(f"{method} {path}: {exc}") from exc
                self._backoff(attempt, None)
                continue
            if response.status_code in (429, 503) and attempt <= self.config.retries:
                if self.stop_event.is_set():
                    raise AgentError(f"{method} {path}: {response.status_code} while stopping")
                self._backoff(attempt, response.headers.get("Retry-After"))
                continue
            return response

    def _backoff(self, attempt: int, retry_after: str | None) -> None:
        try:
            delay = float(retry_after) if retry_after else 0.5 * 2 ** (attempt - 1)
        except ValueError:
            delay = 0.5 * 2 ** (attempt - 1)
        delay = min(max(delay, 0.0), self.config.max_backoff_s)
        log.info("back-off %.1f s (attempt %d)", delay, attempt)
        self._sleep(delay)

    def _ok(self, response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                detail = response.json().get("error", {})
            except ValueError:  # an HTML page from the instance's edge (502/503/504)
                detail = response.text[:200]
            raise AgentError(f"{what}: HTTP {response.status_code} {detail}")
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:  # e.g. a hibernating instance: 200 with an HTML page
            raise AgentError(f"{what}: HTTP {response.status_code} but not JSON: {response.text[:80]!r}") from exc

    def list(self, table: str, query: str, fields: str = "", limit: int | None = None) -> list[dict[str, Any]]:
        params = {
            "sysparm_query": query,
            "sysparm_limit": str(limit or self.config.page_size),
            "sysparm_exclude_reference_link": "true",
        }
        if fields:
            params["sysparm_fields"] = fields
        return self._ok(self.request("GET", f"/api/now/table/{table}", params=params), f"list {table}")["result"]

    def get(self, table: str, sys_id: str) -> dict[str, Any] | None:
        response = self.request(
            "GET", f"/api/now/table/{table}/{sys_id}", params={"sysparm_exclude_reference_link": "true"}
        )
        if response.status_code == 404:
            return None
        return self._ok(response, f"get {table}")["result"]

    def patch(self, table: str, sys_id: str, values: dict[str, str], engineer: str = "") -> dict[str, Any]:
        response = self.request(
            "PATCH",
            f"/api/now/table/{table}/{sys_id}",
            client=self.engineer_client(engineer),
            json=values,
            params={"sysparm_exclude_reference_link": "true"},
        )
        return self._ok(response, f"update {table}")["result"]

    def staff(self) -> set[str]:
        return set(self.config.engineers) | {self.config.user}

    def _work(self, ticket: Ticket, values: dict[str, str]) -> dict[str, Any]:
        """An update by the ticket's engineer; sometimes a quick follow-up lands in the same second."""
        updated = self.patch(ticket.table, ticket.sys_id, values, ticket.engineer)
        if self.rng.random() < self.config.burst_probability:
            updated = self.patch(
                ticket.table, ticket.sys_id, {"work_notes": self.rng.choice(FOLLOW_UPS)}, ticket.engineer
            )
            self.actions.append((ticket.number, "burst", ticket.engineer))
        return updated

    def create(self, table: str, values: dict[str, str]) -> dict[str, Any]:
        response = self.request(
            "POST", f"/api/now/table/{table}", json=values, params={"sysparm_exclude_reference_link": "true"}
        )
        return self._ok(response, f"create {table}")["result"]

    # -- reference data ----------------------------------------------------------------------
    def user_id(self, user_name: str) -> str:
        if user_name not in self._user_ids:
            rows = self.list("sys_user", f"user_name={user_name}", "sys_id,user_name", limit=1)
            self._user_ids[user_name] = rows[0]["sys_id"] if rows else ""
        return self._user_ids[user_name]

    def group_id(self, name: str) -> str:
        if name not in self._group_ids:
            rows = self.list("sys_user_group", f"name={name}", "sys_id,name", limit=1)
            self._group_ids[name] = rows[0]["sys_id"] if rows else ""
        return self._group_ids[name]

    def callers(self) -> list[str]:
        if self._callers is None:
            staff = self.staff() | {"admin", "kompass.integration"}
            rows = self.list("sys_user", "active=true^ORDERBYuser_name", "sys_id,user_name", limit=100)
            self._callers = [r["sys_id"] for r in rows if r.get("user_name") not in staff] or [
                r["sys_id"] for r in rows
            ]
        return self._callers

    # -- timing ------------------------------------------------------------------------------
    def _after(self, window: tuple[float, float]) -> float:
        return self.clock() + self.config.scaled(self.rng.uniform(*window))

    def _note(self, ticket: Ticket, stage: str, detail: str = "") -> None:
        ticket.stage = stage
        self.actions.append((ticket.number, stage, detail))
        log.info("%s %s %s", ticket.number, stage, detail)

    # -- the loop ----------------------------------------------------------------------------
    def poll(self) -> None:
        """Find new unassigned tickets (and adopt active ones assigned to our engineers)."""
        for table in self.config.tables:
            rows = self.list(
                table,
                "active=true^state=1^assigned_toISEMPTY^ORDERBYsys_created_on",
                "sys_id,number,state,assigned_to",
            )
            for row in rows:
                if row["sys_id"] not in self.tickets:
                    self.tickets[row["sys_id"]] = Ticket(
                        table, row["sys_id"], row.get("number", ""), "new", self._after(self.config.pickup_s)
                    )
                    self.actions.append((row.get("number", ""), "seen", table))
        self._adopt()

    def _adopt(self) -> None:
        ids = [self.user_id(name) for name in self.config.engineers]
        ids = [i for i in ids if i]
        if not ids:
            return
        for table in self.config.tables:
            states = "2,3,6" if table == "incident" else "2"
            rows = self.list(
                table,
                f"active=true^stateIN{states}^assigned_toIN{','.join(ids)}^ORDERBYsys_updated_on",
                "sys_id,number,state,hold_reason,sys_mod_count,assigned_to",
            )
            for row in rows:
                if row["sys_id"] in self.tickets:
                    continue
                state = row.get("state")
                stage = {"2": "investigating", "3": "working", "6": "resolved"}.get(state, "investigating")
                ticket = Ticket(table, row["sys_id"], row.get("number", ""), stage, self._after(self.config.resolve_s))
                by_id = {self.user_id(name): name for name in self.config.engineers}
                ticket.engineer = by_id.get(row.get("assigned_to", ""), "")
                if table == "incident" and state == "3" and row.get("hold_reason") == "1":
                    ticket.stage, ticket.asked, ticket.held_since = "awaiting_caller", True, self.clock()
                    ticket.hold_mod_count = int(row.get("sys_mod_count") or 0)
                    ticket.hold_journal_ids = self._comment_ids(ticket)
                self.tickets[row["sys_id"]] = ticket
                self.actions.append((ticket.number, "adopted", ticket.stage))

    def step(self) -> int:
        """Advance every ticket whose next action is due by one stage; returns how many moved."""
        moved = 0
        for ticket in list(self.tickets.values()):
            if self.stop_event.is_set():
                break
            if ticket.stage != "awaiting_caller" and ticket.due > self.clock():
                continue
            try:
                if self._advance(ticket):
                    moved += 1
            except AgentError as exc:
                log.warning("%s: %s", ticket.number, exc)
            if ticket.stage == "done":
                self.tickets.pop(ticket.sys_id, None)
        return moved

    def maybe_create(self) -> dict[str, Any] | None:
        """Create an incident from a simulated caller when ``create_every`` is due."""
        if not self.config.create_every or self.clock() < self._next_create:
            return None
        self._next_create = self.clock() + self.config.scaled(self.config.create_every)
        return self.create_incident()

    def create_incident(self) -> dict[str, Any]:
        short, category, description = self.rng.choice(CALLER_PROBLEMS)
        callers = self.callers()
        values = {
            "short_description": short,
            "description": description,
            "category": category,
            "impact": self.rng.choice(("1", "2", "2", "3", "3")),
            "urgency": self.rng.choice(("1", "2", "3", "3")),
            "contact_type": self.rng.choice(("phone", "email", "self-service")),
            "caller_id": self.rng.choice(callers) if callers else "",
        }
        record = self.create("incident", values)
        self.actions.append((record.get("number", ""), "created", short))
        log.info("%s created by a simulated caller: %s", record.get("number"), short)
        return record

    def run_once(self) -> int:
        """One poll plus one step (and a creation when due). Errors are logged, not raised."""
        try:
            self.maybe_create()
            self.poll()
        except AgentError as exc:
            log.warning("poll failed: %s", exc)
        return self.step()

    def run(self) -> None:
        """Loop until :attr:`stop_event` is set."""
        log.info("vendor agent working %s as %s (speed %s)", self.config.url, self.config.user, self.config.speed)
        while not self.stop_event.is_set():
            self.run_once()
            self.stop_event.wait(max(0.05, self.config.scaled(self.config.poll_s)))
        self.close()
        log.info("vendor agent stopped")

    def stop(self) -> None:
        self.stop_event.set()

    # -- stages ------------------------------------------------------------------------------
    def _advance(self, ticket: Ticket) -> bool:
        record = self.get(ticket.table, ticket.sys_id)
        closed_states = ("7", "8") if ticket.table == "incident" else ("3", "4", "7")
        if record is None or record.get("state") in closed_states:
            self._note(ticket, "done", "gone or closed elsewhere")
            return False
        if ticket.table == "incident":
            return self._advance_incident(ticket, record)
        return self._advance_item(ticket, record)

    def _assign(self, ticket: Ticket, record: dict[str, Any], state: str) -> bool:
        if record.get("assigned_to") and ticket.stage == "new":
            self._note(ticket, "done", "assigned by someone else")
            return False
        group = GROUP_BY_CATEGORY.get(record.get("category", ""), "Service Desk")
        engineer = self.rng.choice(self.config.engineers)
        ticket.engineer = engineer
        self._work(
            ticket,
            {
                "assignment_group": self.group_id(group),
                "assigned_to": self.user_id(engineer),
                "state": state,
                "work_notes": f"{self.rng.choice(PICKUP_NOTES)} Assigned to {group} / {engineer}.",
            },
        )
        ticket.due = self._after(self.config.investigate_s)
        self._note(ticket, "assigned", f"{group} / {engineer}")
        return True

    def _advance_incident(self, ticket: Ticket, record: dict[str, Any]) -> bool:
        state = record.get("state")
        if ticket.stage == "new":
            if state != "1":
                self._note(ticket, "done", "no longer new")
                return False
            return self._assign(ticket, record, "2")
        if ticket.stage == "resolved":
            if state != "6":  # reopened by the caller: work it again
                ticket.due = self._after(self.config.resolve_s)
                self._note(ticket, "working", "reopened")
                return True
            # itil engineers may not close (closure needs itil_admin or admin): the instance's
            # auto-close job closes it; until then a caller comment can reopen it
            ticket.due = self._after(self.config.close_s)
            return False
        if ticket.stage == "awaiting_caller":
            return self._check_caller(ticket, record)
        if ticket.stage == "investigating" and not ticket.asked and self.rng.random() < self.config.hold_probability:
            ticket.asked = True
            ticket.hold_journal_ids = self._comment_ids(ticket)
            updated = self.patch(
                "incident",
                ticket.sys_id,
                {
                    "state": "3",
                    "hold_reason": "1",
                    "comments": self.rng.choice(QUESTIONS),
                    "work_notes": "Waiting for information from the caller.",
                },
                ticket.engineer,
            )
            ticket.hold_mod_count = int(updated.get("sys_mod_count") or 0)
            ticket.held_since = self.clock()
            if self.journal_readable and not self._comment_ids(ticket) - ticket.hold_journal_ids:
                # our own question is not visible: an ACL hides sys_journal_field rows from this user
                self.journal_readable = False
            self._note(ticket, "awaiting_caller", "asked the caller for information")
            return True
        if ticket.stage == "assigned":
            values = {
                "comments": self.rng.choice(CUSTOMER_UPDATES),
                "work_notes": self.rng.choice(INVESTIGATION_NOTES),
            }
            if self.rng.random() < self.config.conflict_probability:
                # engineers also edit fields the integration writes: conflicting edits happen
                name, choices = self.rng.choice(CONFLICTING_EDITS)
                values[name] = self.rng.choice(choices).format(
                    short=record.get("short_description", ""), description=record.get("description", "")
                )
                self.actions.append((ticket.number, "conflict", name))
            self._work(ticket, values)
            ticket.due = self._after(self.config.investigate_s)
            self._note(ticket, "investigating")
            return True
        # investigating (not put on hold) or working: resolve
        close_code = self.rng.choice(CLOSE_CODES)
        self._work(
            ticket,
            {
                "state": "6",
                "close_code": close_code,
                "close_notes": self.rng.choice(RESOLUTIONS),
                "comments": "We have resolved your incident. Reply to this message if the problem comes back.",
            },
        )
        ticket.due = self._after(self.config.close_s)
        self._note(ticket, "resolved", close_code)
        return True

    def _comment_ids(self, ticket: Ticket) -> set[str]:
        rows = self._journal(ticket)
        return {r["sys_id"] for r in rows} if rows is not None else set()

    def _journal(self, ticket: Ticket) -> list[dict[str, Any]] | None:
        """Comments on the ticket, or None when the agent's user may not read sys_journal_field."""
        if not self.journal_readable:
            return None
        response = self.request(
            "GET",
            "/api/now/table/sys_journal_field",
            params={
                "sysparm_query": f"element_id={ticket.sys_id}^element=comments^ORDERBYsys_created_on",
                "sysparm_fields": "sys_id,sys_created_by,value,sys_created_on",
                "sysparm_limit": "200",
            },
        )
        if response.status_code in (401, 403):
            self.journal_readable = False
            return None
        return self._ok(response, "journal")["result"]

    def _check_caller(self, ticket: Ticket, record: dict[str, Any]) -> bool:
        state = record.get("state")
        replied = False
        rows = self._journal(ticket)
        if rows is not None:
            replied = any(
                r["sys_id"] not in ticket.hold_journal_ids and r.get("sys_created_by") not in self.staff() for r in rows
            )
        else:  # no journal access: any change by someone else after we put it on hold
            replied = (
                int(record.get("sys_mod_count") or 0) > ticket.hold_mod_count
                and record.get("sys_updated_by") not in self.staff()
            )
        if state != "3" and not replied:  # someone else took it off hold
            replied = True
        timed_out = self.clock() - ticket.held_since >= self.config.scaled(self.config.caller_timeout_s)
        if not (replied or timed_out):
            return False
        note = "Caller replied; resuming work." if replied else "No reply from the caller; continuing anyway."
        if state == "3":
            self.patch(
                "incident", ticket.sys_id, {"state": "2", "hold_reason": "", "work_notes": note}, ticket.engineer
            )
        else:  # the caller's comment already resumed it (the instance's business rule, same update)
            self.patch("incident", ticket.sys_id, {"work_notes": note}, ticket.engineer)
        ticket.due = self._after(self.config.resolve_s)
        self._note(ticket, "working", "caller replied" if replied else "caller timeout")
        return True

    def _advance_item(self, ticket: Ticket, record: dict[str, Any]) -> bool:
        if ticket.stage == "new":
            if record.get("state") != "1":
                self._note(ticket, "done", "no longer open")
                return False
            return self._assign(ticket, record, "2")
        if ticket.stage == "assigned":
            self._work(
                ticket,
                {
                    "stage": "fulfillment",
                    "comments": "We are preparing your request.",
                    "work_notes": "Ordered from stock; preparing delivery.",
                },
            )
            ticket.due = self._after(self.config.resolve_s)
            self._note(ticket, "investigating")
            return True
        self.patch(
            ticket.table,
            ticket.sys_id,
            {
                "state": "3",
                "stage": "complete",
                "comments": "Your request has been fulfilled.",
            },
            ticket.engineer,
        )
        self._note(ticket, "done", "closed complete")
        self.actions.append((ticket.number, "closed", "closed complete"))
        return True
