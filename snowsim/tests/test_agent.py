"""snowsim.agent: the simulated vendor desk, driven step by step against a live HTTPS snowsim."""

import threading

import httpx
import pytest

from snowsim.agent import QUESTIONS, AgentConfig, VendorAgent
from snowsim.cli import build_app
from snowsim.faults import FaultConfig
from snowsim.tls import client_verify


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def server(store, make_live_server):
    """snowsim (build_app: API + faults + admin) over HTTPS on a free loopback port, in a thread."""
    srv = make_live_server(build_app(store), store)
    srv.agents = []
    yield srv
    for agent in srv.agents:
        agent.close()


@pytest.fixture
def clock():
    return Clock()


def make_agent(server, clock, **overrides):
    settings = {
        "url": server.url,
        "verify": server.ca_path,
        "seed": 7,
        "hold_probability": 0.0,
        "caller_timeout_s": 600,
        "burst_probability": 0.0,
        "conflict_probability": 0.0,
    }
    settings.update(overrides)
    agent = VendorAgent(AgentConfig(**settings), clock=clock, sleep=lambda s: None)
    server.agents.append(agent)
    return agent


def caller_client(server):
    return httpx.Client(
        base_url=server.url, verify=client_verify(server.ca_path), auth=("kompass.integration", "kompass")
    )


def new_incident(server, **values):
    with caller_client(server) as c:
        response = c.post(
            "/api/now/table/incident",
            json={"short_description": "VPN down", "category": "network", "correlation_id": "K-42", **values},
        )
        assert response.status_code == 201
        return response.json()["result"]


def advance(agent, clock, seconds=1000):
    clock.advance(seconds)
    return agent.run_once()


def stages(agent, number):
    return [stage for n, stage, _ in agent.actions if n == number]


def test_full_incident_lifecycle_with_awaiting_caller(server, store, clock):
    inc = new_incident(server)
    agent = make_agent(server, clock, hold_probability=1.0)

    agent.run_once()  # sees it; pick-up not due yet
    assert store.get("incident", inc["sys_id"])["state"] == "1"

    advance(agent, clock)
    rec = store.get("incident", inc["sys_id"])
    assert rec["state"] == "2"
    assert rec["assignment_group"] == store.sid("sys_user_group", "Network")
    assert rec["assigned_to"]
    engineer = store.get("sys_user", rec["assigned_to"])["user_name"]
    assert engineer.startswith("itil.engineer")
    assert rec["sys_updated_by"] == engineer  # the assigned engineer's own login, not the agent's
    assert [j["element"] for j in store.journal(inc["sys_id"])] == ["work_notes"]

    advance(agent, clock)  # investigating: a customer-visible comment and a work note
    assert {j["element"] for j in store.journal(inc["sys_id"])} == {"work_notes", "comments"}

    advance(agent, clock)  # on hold, awaiting caller, with a question
    rec = store.get("incident", inc["sys_id"])
    assert (rec["state"], rec["hold_reason"]) == ("3", "1")
    question = store.journal(inc["sys_id"], ["comments"])[-1]
    assert question["sys_created_by"] == engineer and question["value"] in QUESTIONS
    assert agent.journal_readable  # itil.engineer1 has journal_read: it waits for a comment, not any change

    advance(agent, clock, 10)  # no reply yet: stays on hold
    advance(agent, clock, 10)
    assert store.get("incident", inc["sys_id"])["state"] == "3"

    with caller_client(server) as c:
        assert (
            c.patch(
                f"/api/now/table/incident/{inc['sys_id']}",
                json={"comments": "It started this morning, only my laptop."},
            ).status_code
            == 200
        )
    # the caller's comment itself took it off hold (the instance's business rule, same update)
    rec = store.get("incident", inc["sys_id"])
    assert (rec["state"], rec["hold_reason"], rec["sys_updated_by"]) == ("2", "", "kompass.integration")
    advance(agent, clock, 1)  # the agent notices the reply and carries on
    rec = store.get("incident", inc["sys_id"])
    assert (rec["state"], rec["hold_reason"]) == ("2", "")

    advance(agent, clock)  # resolved with a close code and notes
    rec = store.get("incident", inc["sys_id"])
    assert rec["state"] == "6"
    assert rec["close_code"] and rec["close_notes"]
    assert rec["resolved_by"] == store.sid("sys_user", engineer)

    advance(agent, clock)  # itil engineers may not close: it stays Resolved for the auto-close job
    assert store.get("incident", inc["sys_id"])["state"] == "6"
    assert store.autoclose(0) == [inc["sys_id"]]  # the instance's job closes it, as system
    rec = store.get("incident", inc["sys_id"])
    assert (rec["state"], rec["active"], rec["sys_updated_by"]) == ("7", "false", "system")
    advance(agent, clock)
    assert stages(agent, inc["number"]) == [
        "seen",
        "assigned",
        "investigating",
        "awaiting_caller",
        "working",
        "resolved",
        "done",
    ]
    assert inc["sys_id"] not in agent.tickets


def hold_incident(server, clock, **overrides):
    """An incident the agent has put On Hold / Awaiting Caller; returns (incident, agent, journal GETs)."""
    inc = new_incident(server)
    agent = make_agent(server, clock, hold_probability=1.0, **overrides)
    journal_reads = []
    agent.client.event_hooks["request"].append(
        lambda request: journal_reads.append(request) if "/sys_journal_field" in request.url.path else None
    )
    for _ in range(4):  # seen, assigned, investigating, awaiting caller
        advance(agent, clock)
    assert stages(agent, inc["number"])[-1] == "awaiting_caller"
    return inc, agent, journal_reads


def test_it_resumes_after_a_caller_comment_read_from_the_journal(server, store, clock):
    assert "journal_read" in store.get_user("itil.engineer1")["roles"].split(",")
    inc, agent, journal_reads = hold_incident(server, clock)
    assert agent.journal_readable  # the engineer sees its own question in sys_journal_field
    sys_id = inc["sys_id"]

    # someone else changes the record without commenting: not a reply (the no-journal fallback
    # would have taken this as one), so it stays on hold
    with caller_client(server) as c:
        assert (
            c.patch(f"/api/now/table/incident/{sys_id}", json={"urgency": "1", "work_notes": "internal"}).status_code
            == 200
        )
    reads_before = len(journal_reads)
    advance(agent, clock, 10)
    assert len(journal_reads) > reads_before  # it looked at the activity stream
    assert (store.get("incident", sys_id)["state"], stages(agent, inc["number"])[-1]) == ("3", "awaiting_caller")

    with caller_client(server) as c:
        assert (
            c.patch(
                f"/api/now/table/incident/{sys_id}", json={"comments": "It started this morning, only my laptop."}
            ).status_code
            == 200
        )
    advance(agent, clock, 10)
    rec = store.get("incident", sys_id)
    assert (rec["state"], rec["hold_reason"]) == ("2", "")
    assert [d for n, s, d in agent.actions if s == "working"] == ["caller replied"]
    assert store.journal(sys_id, ["work_notes"])[-1]["value"] == "Caller replied; resuming work."
    assert agent.journal_readable


def test_without_journal_access_it_falls_back_to_record_changes(server, store, clock):
    # beth.anglin has only itil: sys_journal_field shows her no rows, so she never sees her own question
    inc, agent, _ = hold_incident(server, clock, user="beth.anglin", password="beth.anglin")
    assert not agent.journal_readable
    advance(agent, clock, 10)
    assert store.get("incident", inc["sys_id"])["state"] == "3"
    with caller_client(server) as c:
        assert c.patch(f"/api/now/table/incident/{inc['sys_id']}", json={"comments": "Here you go"}).status_code == 200
    advance(agent, clock, 10)
    assert store.get("incident", inc["sys_id"])["state"] == "2"
    assert [d for n, s, d in agent.actions if s == "working"] == ["caller replied"]


def test_a_store_seeded_before_the_journal_role_gets_it_on_open(tmp_path):
    from snowsim.store import Store

    path = str(tmp_path / "old.sqlite3")
    old = Store(path, seed=0)
    old._conn.execute('UPDATE "sys_user" SET roles=? WHERE user_name LIKE ?', ("itil", "itil.engineer%"))
    old._conn.execute('UPDATE "sys_user" SET roles=? WHERE user_name=?', ("itil,x", "itil.engineer4"))
    old._conn.execute("DELETE FROM _snowsim_meta WHERE key='seed_engineers_journal_read'")
    old.close()
    reopened = Store(path, seed=0)
    try:
        assert reopened.get_user("itil.engineer1")["roles"] == "itil,journal_read"
        assert reopened.get_user("itil.engineer4")["roles"] == "itil,x"  # changed by someone: left alone
        assert reopened.get_user("beth.anglin")["roles"] == "itil"
    finally:
        reopened.close()


def test_the_caller_timeout_resumes_work(server, store, clock):
    inc = new_incident(server)
    agent = make_agent(server, clock, hold_probability=1.0, caller_timeout_s=300)
    for _ in range(4):
        advance(agent, clock, 100)
    assert store.get("incident", inc["sys_id"])["state"] == "3"
    advance(agent, clock, 301)
    assert store.get("incident", inc["sys_id"])["state"] == "2"
    assert [d for n, s, d in agent.actions if s == "working"] == ["caller timeout"]


def test_without_hold_it_goes_straight_to_resolved(server, store, clock):
    inc = new_incident(server)
    agent = make_agent(server, clock)
    for _ in range(5):
        advance(agent, clock)
    assert store.get("incident", inc["sys_id"])["state"] == "6"
    assert "awaiting_caller" not in stages(agent, inc["number"])


def test_a_caller_comment_reopens_a_resolved_incident_and_the_agent_works_it_again(server, store, clock):
    inc = new_incident(server)
    agent = make_agent(server, clock)
    for _ in range(4):
        advance(agent, clock)
    assert store.get("incident", inc["sys_id"])["state"] == "6"
    with caller_client(server) as c:
        r = c.patch(f"/api/now/table/incident/{inc['sys_id']}", json={"comments": "Still broken"})
    assert r.json()["result"]["state"] == "2" and r.json()["result"]["reopen_count"] == "1"
    advance(agent, clock)
    assert stages(agent, inc["number"])[-1] == "working"
    advance(agent, clock)
    assert store.get("incident", inc["sys_id"])["state"] == "6"


def test_timing_scales_with_speed(server, store, clock):
    inc = new_incident(server)
    agent = make_agent(server, clock, speed=10, pickup_s=(100, 100))
    agent.run_once()
    advance(agent, clock, 9)
    assert store.get("incident", inc["sys_id"])["state"] == "1"
    advance(agent, clock, 1.01)
    assert store.get("incident", inc["sys_id"])["state"] == "2"


def test_the_same_seed_makes_the_same_choices(server, store, clock):
    def run(seed):
        inc = new_incident(server)
        agent = make_agent(server, Clock(), seed=seed, hold_probability=0.5)
        agent.run_once()
        for _ in range(3):
            agent.clock.advance(1000)
            agent.step()
        rec = store.get("incident", inc["sys_id"])
        notes = [j["value"] for j in store.journal(inc["sys_id"])]
        due = agent.tickets[inc["sys_id"]].due
        agent.client.close()
        store.delete("incident", inc["sys_id"])  # so the next run does not adopt it
        return (rec["assigned_to"], rec["state"], rec["close_code"], notes), due

    first, second, third = run(3), run(3), run(4)
    assert first == second
    assert first != third


def test_requested_items_are_fulfilled(server, store, clock):
    with caller_client(server) as c:
        item = c.post("/api/now/table/sc_req_item", json={"short_description": "Laptop"}).json()["result"]
    agent = make_agent(server, clock)
    for _ in range(4):
        advance(agent, clock)
    rec = store.get("sc_req_item", item["sys_id"])
    assert rec["state"] == "3" and rec["stage"] == "complete"
    assert stages(agent, item["number"]) == ["seen", "assigned", "investigating", "done", "closed"]


def test_it_leaves_tickets_alone_that_someone_else_assigned(server, store, clock):
    inc = new_incident(server)
    agent = make_agent(server, clock)
    agent.run_once()
    store.update("incident", inc["sys_id"], {"state": "2", "assigned_to": store.sid("sys_user", "beth.anglin")})
    advance(agent, clock)
    assert inc["sys_id"] not in agent.tickets
    assert store.get("incident", inc["sys_id"])["assigned_to"] == store.sid("sys_user", "beth.anglin")


def test_create_every_opens_incidents_from_simulated_callers(server, store, clock):
    agent = make_agent(server, clock, create_every=60)
    assert agent.maybe_create() is None
    clock.advance(61)
    created = agent.maybe_create()
    assert created["number"].startswith("INC")
    rec = store.get("incident", created["sys_id"])
    assert rec["correlation_id"] == ""
    staff = {store.sid("sys_user", u) for u in ("admin", "kompass.integration", "itil.engineer1")}
    assert rec["caller_id"] and rec["caller_id"] not in staff
    assert agent.maybe_create() is None


def test_it_backs_off_on_429_and_503_using_retry_after(server, store, clock):
    controller = server.app.state.faults
    controller.update(FaultConfig(rate429=1.0, retry_after=4))
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        controller.update(FaultConfig(error503=1.0, retry_after=2) if len(slept) == 1 else FaultConfig())

    agent = make_agent(server, clock)
    agent._sleep = sleep
    response = agent.request("GET", "/api/now/table/incident", params={"sysparm_limit": "1"})
    assert response.status_code == 200
    assert slept == [4.0, 2.0]


def test_it_gives_up_after_its_retries_and_keeps_running(server, store, clock):
    new_incident(server)
    server.app.state.faults.update(FaultConfig(error503=1.0, retry_after=1))
    agent = make_agent(server, clock, retries=2)
    assert agent.run_once() == 0  # the failure is logged, not raised
    server.app.state.faults.update(FaultConfig())
    agent.run_once()
    assert len(agent.tickets) == 1


def test_run_stops_when_asked(server, clock):
    agent = VendorAgent(AgentConfig(url=server.url, verify=server.ca_path, poll_s=0.05))
    thread = threading.Thread(target=agent.run)
    thread.start()
    agent.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


# -- realism: several engineers, same-second updates, conflicting edits, seeded chaos -------------


def seed_incidents(store, n):
    """Incidents with seed-derived sys_ids, so a run over them is reproducible."""
    return [
        store.insert(
            "incident",
            {
                "sys_id": store.sid("incident", str(i)),
                "short_description": f"Problem {i}",
                "category": ("network", "database", "software", "hardware")[i % 4],
                "correlation_id": f"K-{i}",
            },
            "kompass.integration",
        )
        for i in range(n)
    ]


def test_several_engineers_work_the_queue_with_same_second_bursts_and_conflicting_edits(server, store, clock):
    incidents = seed_incidents(store, 12)
    agent = make_agent(server, clock, burst_probability=0.6, conflict_probability=0.6)
    for _ in range(4):
        advance(agent, clock)
    writers = {store.get("incident", i["sys_id"])["sys_updated_by"] for i in incidents}
    assert len(writers) > 1 and writers <= set(agent.config.engineers)  # not one user
    bursts = [n for n, stage, _ in agent.actions if stage == "burst"]
    assert bursts
    rows = store.journal(store.query("incident", f"number={bursts[0]}")[0][0]["sys_id"], ["work_notes"])
    seconds = [r["sys_created_on"] for r in rows]
    assert len(seconds) != len(set(seconds))  # two updates of one incident in the same second
    conflicts = [(n, field) for n, stage, field in agent.actions if stage == "conflict"]
    assert conflicts
    number, field = conflicts[0]
    rec = store.query("incident", f"number={number}")[0][0]
    original = next(i for i in incidents if i["number"] == number)
    assert rec[field] != original[field] or field in ("urgency", "impact")  # an engineer wrote it directly


def chaos_run(make_live_server, seed):
    from snowsim.faults import FaultController
    from snowsim.store import Store

    store = Store(None, seed=0)
    controller = FaultController(FaultConfig(error503=0.1, error500=0.05, retry_after=0), seed=seed)
    srv = make_live_server(build_app(store, controller=controller), store)
    seed_incidents(store, 10)
    clock = Clock()
    agent = VendorAgent(
        AgentConfig(url=srv.url, verify=srv.ca_path, seed=seed, hold_probability=0.5, caller_timeout_s=50),
        clock=clock,
        sleep=lambda s: None,
    )
    try:
        for _ in range(12):
            advance(agent, clock, 40)
    finally:
        agent.close()
        srv.stop()
    states = {r["number"]: (r["state"], r["sys_updated_by"]) for r in store.query("incident", "")[0]}
    store.close()
    return agent.actions, states


@pytest.mark.slow
@pytest.mark.chaos
def test_a_seeded_chaos_run_is_reproducible(make_live_server):
    first = chaos_run(make_live_server, seed=5)
    assert first == chaos_run(make_live_server, seed=5)
    actions, states = first
    assert {s for _, s, _ in actions} >= {"assigned", "resolved", "burst"}
    assert len({by for _, by in states.values()}) > 1
