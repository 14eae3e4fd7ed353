"""Issue #7: snowsim as unkind as a real instance. Every test runs against a live HTTPS snowsim
(``build_app``: API, faults, admin, webhooks), with httpx or ServiceNow's own client (pysnc)."""

from __future__ import annotations

import time

import httpx
import pytest

from snowsim.cli import build_app
from snowsim.faults import FaultController
from snowsim.jobs import AutoCloseJob
from snowsim.tests.receiver import Receiver
from snowsim.tls import client_verify
from snowsim.webhooks import WebhookDispatcher, WebhookTarget

pytestmark = pytest.mark.slow  # live uvicorn servers

INC = "/api/now/table/incident"
ACL_UPDATE = {
    "error": {"message": "Operation Failed", "detail": "ACL Exception Update Failed due to security constraints"},
    "status": "failure",
}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sim(store, make_live_server, receiver):
    """A live snowsim whose dispatcher notifies ``receiver`` about every incident change."""
    dispatcher = WebhookDispatcher(controller=FaultController())
    dispatcher.add_target(WebhookTarget(url=receiver.url))
    store.add_listener(dispatcher.listener)
    dispatcher.start()
    srv = make_live_server(build_app(store, controller=dispatcher.controller, dispatcher=dispatcher), store)
    srv.dispatcher = dispatcher
    srv.clients = []

    def client(user="kompass.integration", password=None):
        password = password or {"kompass.integration": "kompass", "admin": "admin"}.get(user, user)
        c = httpx.Client(base_url=srv.url, verify=client_verify(srv.ca_path), auth=(user, password))
        srv.clients.append(c)
        return c

    srv.client = client
    yield srv
    for c in srv.clients:
        c.close()
    dispatcher.stop()


def _new(c, **values):
    r = c.post(INC, json={"short_description": "VPN down", "correlation_id": "K-7", **values})
    assert r.status_code == 201, r.text
    return r.json()["result"]


def _hold(sim, **values):
    eng = sim.client("itil.engineer1")
    inc = _new(sim.client(), **values)
    r = eng.patch(f"{INC}/{inc['sys_id']}", json={"state": "3", "hold_reason": "1", "comments": "When did it start?"})
    assert r.status_code == 200
    return inc, eng


# --------------------------------------------------------------------------- 1. caller replies resume


def test_an_integration_comment_resumes_awaiting_caller_in_the_same_update(sim, store):
    inc, _ = _hold(sim)
    before = store.get("incident", inc["sys_id"])
    r = sim.client().patch(f"{INC}/{inc['sys_id']}", json={"comments": "This morning, only my laptop."})
    out = r.json()["result"]
    assert (out["state"], out["incident_state"], out["hold_reason"]) == ("2", "2", "")  # the PATCH shows it
    assert out["sys_updated_by"] == "kompass.integration"  # stamped with the integration user's name
    assert int(out["sys_mod_count"]) == int(before["sys_mod_count"]) + 1  # one update, not two
    assert store.get("incident", inc["sys_id"])["hold_reason"] == ""


def test_the_real_caller_resumes_it_too_but_not_a_third_user_or_a_work_note(sim, store):
    beth = store.sid("sys_user", "beth.anglin")
    inc, eng = _hold(sim, caller_id=beth)
    url = f"{INC}/{inc['sys_id']}"
    assert sim.client().patch(url, json={"work_notes": "internal"}).json()["result"]["state"] == "3"
    assert sim.client("itil.engineer2").patch(url, json={"comments": "ping"}).json()["result"]["state"] == "3"
    assert sim.client("beth.anglin").patch(url, json={"comments": "here"}).json()["result"]["state"] == "2"


def test_the_proxy_users_are_an_instance_property(sim, store):
    store.properties["snowsim.incident.caller_proxy_users"] = ""
    inc, _ = _hold(sim)
    r = sim.client().patch(f"{INC}/{inc['sys_id']}", json={"comments": "reply"})
    assert r.json()["result"]["state"] == "3"  # the integration user is no longer taken for the caller


def test_an_explicit_state_in_the_same_update_wins(sim):
    inc, _ = _hold(sim)
    r = sim.client().patch(f"{INC}/{inc['sys_id']}", json={"comments": "reply", "state": "3", "hold_reason": "4"})
    assert (r.json()["result"]["state"], r.json()["result"]["hold_reason"]) == ("3", "4")


def test_resume_through_pysnc(sim, store, monkeypatch):
    pysnc = pytest.importorskip("pysnc")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", sim.ca_path)
    inc, _ = _hold(sim)
    sn = pysnc.ServiceNowClient(sim.url, ("kompass.integration", "kompass"), verify=sim.ca_path)
    gr = sn.GlideRecord("incident")
    assert gr.get(inc["sys_id"])
    gr.comments = "Reply from the caller via Kompass"
    gr.update()
    assert gr.state == "2" and gr.get_display_value("state") == "In Progress"
    assert gr.hold_reason == ""


# --------------------------------------------------------------------------- 2. Closed is read-only


def _closed(sim):
    inc = _new(sim.client())
    admin = sim.client("admin")
    url = f"{INC}/{inc['sys_id']}"
    assert admin.patch(url, json={"state": "6", "close_code": "Solution provided", "close_notes": "ok"}).is_success
    assert admin.patch(url, json={"state": "7"}).json()["result"]["state"] == "7"
    return inc, url


def test_itil_users_cannot_write_comment_or_reopen_a_closed_incident(sim, store):
    inc, url = _closed(sim)
    before = store.get("incident", inc["sys_id"])
    for user in ("kompass.integration", "itil.engineer1"):
        for body in ({"short_description": "x"}, {"comments": "hello?"}, {"work_notes": "n"}, {"state": "2"}):
            r = sim.client(user).patch(url, json=body)
            assert (r.status_code, r.json()) == (403, ACL_UPDATE), (user, body)
    r = sim.client().post(
        "/api/now/attachment/file",
        params={"table_name": "incident", "table_sys_id": inc["sys_id"], "file_name": "a.txt"},
        content=b"x",
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 403
    after = store.get("incident", inc["sys_id"])
    assert after == before and store.journal(inc["sys_id"], ["comments"]) == []


def test_admin_may_change_only_a_few_fields_of_a_closed_incident(sim):
    _inc, url = _closed(sim)
    admin = sim.client("admin")
    assert admin.patch(url, json={"close_notes": "better notes", "work_notes": "audit"}).status_code == 200
    assert admin.patch(url, json={"state": "2"}).status_code == 403
    assert admin.patch(url, json={"short_description": "x"}).status_code == 403


def test_closing_needs_itil_admin_or_admin(sim, store):
    inc = _new(sim.client())
    url = f"{INC}/{inc['sys_id']}"
    eng = sim.client("itil.engineer1")
    assert eng.patch(url, json={"state": "6", "close_code": "Solution provided", "close_notes": "ok"}).is_success
    r = eng.patch(url, json={"state": "7"})
    assert r.status_code == 403 and r.json() == ACL_UPDATE
    assert store.get("incident", inc["sys_id"])["state"] == "6"
    r = sim.client().post(
        INC, json={"short_description": "born closed", "state": "7", "close_code": "Duplicate", "close_notes": "dup"}
    )
    assert r.status_code == 403


def test_a_caller_comment_reopens_a_resolved_incident_unless_switched_off(sim, store):
    inc = _new(sim.client())
    url = f"{INC}/{inc['sys_id']}"
    eng = sim.client("itil.engineer1")
    eng.patch(url, json={"state": "6", "close_code": "Solution provided", "close_notes": "ok"})
    out = sim.client().patch(url, json={"comments": "Not fixed"}).json()["result"]
    assert (out["state"], out["reopen_count"], out["resolved_at"]) == ("2", "1", "")
    store.properties["snowsim.incident.reopen_on_caller_comment"] = "false"
    eng.patch(url, json={"state": "6", "close_code": "Solution provided", "close_notes": "ok"})
    assert sim.client().patch(url, json={"comments": "thanks"}).json()["result"]["state"] == "6"


# --------------------------------------------------------------------------- 3. auto-close


def test_the_auto_close_job_closes_old_resolved_incidents_as_system_and_notifies(sim, store, receiver):
    inc = _new(sim.client())
    fresh = _new(sim.client())
    eng = sim.client("itil.engineer1")
    resolve = {"state": "6", "close_code": "Solution provided", "close_notes": "ok"}
    eng.patch(f"{INC}/{inc['sys_id']}", json=resolve)
    job = AutoCloseJob(store, after_s=1, interval_s=0.1).start()
    try:
        time.sleep(1.2)
        eng.patch(f"{INC}/{fresh['sys_id']}", json=resolve)  # resolved just now: not yet
        deadline = time.monotonic() + 5
        while store.get("incident", inc["sys_id"])["state"] != "7" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        job.stop()
    rec = sim.client().get(f"{INC}/{inc['sys_id']}").json()["result"]
    assert (rec["state"], rec["active"], rec["sys_updated_by"]) == ("7", "false", "system")
    assert store.get("incident", fresh["sys_id"])["state"] == "6"
    sim.dispatcher.flush()
    closes = [p for p in receiver.payloads() if p["sys_id"] == inc["sys_id"] and p["state"] == "7"]
    assert len(closes) == 1 and closes[0]["sys_updated_by"] == "system"


# --------------------------------------------------------------------------- 6. updates that change nothing


def test_an_update_that_changes_nothing_is_not_an_update(sim, store, receiver):
    inc = _new(sim.client(), impact="2", urgency="2")
    sim.dispatcher.flush()
    seen = len(receiver.requests)
    store.clock = lambda: __import__("datetime").datetime(2031, 1, 1, 12, 0, 0)
    try:
        r = sim.client().patch(f"{INC}/{inc['sys_id']}", json={"impact": "2", "urgency": "2", "comments": ""})
    finally:
        store.clock = None
    out = r.json()["result"]
    assert r.status_code == 200
    assert (out["sys_mod_count"], out["sys_updated_on"]) == (inc["sys_mod_count"], inc["sys_updated_on"])
    sim.dispatcher.flush()
    assert len(receiver.requests) == seen


# --------------------------------------------------------------------------- 4. no ordering gifts


def _same_second(store, n=40):
    import datetime as dt

    store.clock = lambda: dt.datetime(2030, 5, 1, 8, 0, 0)
    try:
        return {
            store.insert("incident", {"short_description": f"Same second {i}"}, "admin")["sys_id"] for i in range(n)
        }
    finally:
        store.clock = None


def _pages(c, query, limit=7):
    seen, offset = [], 0
    while True:
        r = c.get(
            INC,
            params={
                "sysparm_query": query,
                "sysparm_limit": limit,
                "sysparm_offset": offset,
                "sysparm_fields": "sys_id",
            },
        )
        page = [row["sys_id"] for row in r.json()["result"]]
        seen += page
        offset += limit
        if offset >= int(r.headers["X-Total-Count"]):
            return seen


def test_paging_on_a_non_unique_order_loses_and_repeats_rows_and_a_sys_id_tie_break_fixes_it(sim, store):
    ids = _same_second(store)
    c = sim.client()
    naive = _pages(c, "short_descriptionSTARTSWITHSame^ORDERBYsys_updated_on")
    assert len(naive) == len(ids)
    assert set(naive) != ids and len(set(naive)) < len(naive)  # some rows twice, others never
    assert naive == _pages(c, "short_descriptionSTARTSWITHSame^ORDERBYsys_updated_on")  # seeded: reproducible
    safe = _pages(c, "short_descriptionSTARTSWITHSame^ORDERBYsys_updated_on^ORDERBYsys_id")
    assert safe == sorted(ids)
    unordered = [r["sys_id"] for r in c.get(INC, params={"sysparm_fields": "sys_id"}).json()["result"]]
    assert unordered == sorted(unordered)  # no ORDERBY: primary-key (sys_id) order, not insertion order


def test_pysnc_ordering_by_a_timestamp_alone_misses_rows(sim, store, monkeypatch):
    pysnc = pytest.importorskip("pysnc")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", sim.ca_path)
    ids = _same_second(store)
    sn = pysnc.ServiceNowClient(sim.url, ("kompass.integration", "kompass"), verify=sim.ca_path)
    gr = sn.GlideRecord("incident", batch_size=7)
    gr.add_query("short_description", "STARTSWITH", "Same")
    gr.order_by("sys_updated_on")
    gr.query()
    got = [str(r.sys_id) for r in gr]
    assert set(got) != ids
    gr = sn.GlideRecord("incident", batch_size=7)  # pysnc's default ORDERBYsys_id is safe
    gr.add_query("short_description", "STARTSWITH", "Same")
    gr.query()
    assert {str(r.sys_id) for r in gr} == ids


def test_equals_on_strings_ignores_case_but_sys_ids_do_not(sim, store):
    inc = _new(sim.client(), correlation_id="KOMPASS-Abc")
    c = sim.client()

    def numbers(query):
        return [r["number"] for r in c.get(INC, params={"sysparm_query": query}).json()["result"]]

    assert numbers("correlation_id=kompass-abc") == [inc["number"]]
    assert numbers("correlation_idINKOMPASS-ABC,x") == [inc["number"]]
    assert numbers("correlation_id!=KOMPASS-aBC^short_description=vpn DOWN") == []
    assert numbers(f"sys_id={inc['sys_id'].upper()}") == []
    assert numbers("state=1^correlation_id=KOMPASS-ABC") == [inc["number"]]


# --------------------------------------------------------------------------- 5. error bodies from the edge


def test_edge_errors_are_html_and_instance_errors_stay_json(sim, store):
    from snowsim.faults import FaultConfig

    c = sim.client()
    controller = sim.dispatcher.controller
    controller.update(FaultConfig(lost_response=1.0))
    r = c.post(INC, json={"short_description": "lost"})
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):
        r.json()
    assert store.count("incident", "short_description=lost") == 1  # committed all the same
    controller.update(FaultConfig())
    controller.set_down(30)
    r = c.get(INC)
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html") and r.headers["Retry-After"]
    controller.set_down(0)
    for r in (c.get(f"{INC}/{'0' * 32}"), httpx.get(sim.url + INC, verify=client_verify(sim.ca_path))):
        assert r.status_code in (401, 404) and r.json()["status"] == "failure"


def test_a_hibernating_instance_answers_200_with_html_and_clients_must_notice(sim, store, monkeypatch):
    from snowsim.agent import AgentConfig, AgentError, VendorAgent
    from snowsim.faults import FaultConfig

    pysnc = pytest.importorskip("pysnc")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", sim.ca_path)
    inc = _new(sim.client())
    sim.dispatcher.controller.update(FaultConfig(down_for_s=30, down_mode="hibernate"))
    r = sim.client().get(f"{INC}/{inc['sys_id']}")
    assert r.status_code == 200 and "hibernating" in r.text
    sn = pysnc.ServiceNowClient(sim.url, ("kompass.integration", "kompass"), verify=sim.ca_path)
    with pytest.raises(ValueError):  # pysnc's GlideRecord.get parses the HTML as JSON and fails
        sn.GlideRecord("incident").get(inc["sys_id"])
    agent = VendorAgent(AgentConfig(url=sim.url, verify=sim.ca_path), sleep=lambda s: None)
    try:
        with pytest.raises(AgentError, match="not JSON"):
            agent.get("incident", inc["sys_id"])
        agent.run_once()  # logs and carries on
    finally:
        agent.client.close()


# --------------------------------------------------------------------------- 8. attachments


def _upload(c, inc, name="a.txt", data=b"hello", ctype="text/plain"):
    return c.post(
        "/api/now/attachment/file",
        params={"table_name": "incident", "table_sys_id": inc["sys_id"], "file_name": name},
        content=data,
        headers={"Content-Type": ctype},
    )


def test_file_download_carries_x_attachment_metadata(sim):
    import json

    c = sim.client()
    inc = _new(c)
    meta = _upload(c, inc, "log.txt", "blåbær".encode()).json()["result"]
    r = c.get(f"/api/now/attachment/{meta['sys_id']}/file")
    assert r.content == "blåbær".encode()
    header = json.loads(r.headers["X-Attachment-Metadata"])
    assert header["sys_id"] == meta["sys_id"] and header["file_name"] == "log.txt"
    assert header["size_bytes"] == str(len("blåbær".encode())) and header["table_sys_id"] == inc["sys_id"]


def test_attachment_size_and_extension_limits(sim, store, monkeypatch):
    c = sim.client()
    inc = _new(c)
    store.properties["com.glide.attachment.max_size"] = "0.001"  # ~1 KB
    r = _upload(c, inc, "big.txt", b"x" * 2000)
    assert r.status_code == 400 and r.json()["error"]["message"] == "Failed to create the attachment"
    assert "com.glide.attachment.max_size" in r.json()["error"]["detail"]
    assert _upload(c, inc, "small.txt", b"x" * 500).status_code == 201
    r = _upload(c, inc, "setup.EXE", b"MZ", "application/octet-stream")
    assert r.status_code == 400 and ".exe is not allowed" in r.json()["error"]["detail"]
    store.properties["glide.attachment.extensions"] = "pdf,png"
    assert _upload(c, inc, "notes.txt").status_code == 400
    assert _upload(c, inc, "scan.pdf", b"%PDF", "application/pdf").status_code == 201
    files = {"file": ("evil.js", b"alert(1)", "text/javascript")}
    r = c.post(
        "/api/now/attachment/upload", data={"table_name": "incident", "table_sys_id": inc["sys_id"]}, files=files
    )
    assert r.status_code == 400
    assert store.count("sys_attachment") == 2


def test_pysnc_reads_an_attachment_with_its_metadata_header(sim, monkeypatch):
    pysnc = pytest.importorskip("pysnc")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", sim.ca_path)
    inc = _new(sim.client())
    sn = pysnc.ServiceNowClient(sim.url, ("kompass.integration", "kompass"), verify=sim.ca_path)
    gr = sn.GlideRecord("incident")
    assert gr.get(inc["sys_id"])
    gr.add_attachment("report.txt", b"contents", "text/plain")
    [att] = list(gr.get_attachments())
    assert att.read() == b"contents"


# --------------------------------------------------------------------------- 7. time zones


def _at(store, when, **values):
    store.clock = lambda: when
    try:
        return store.insert("incident", {"short_description": "tz", **values}, "admin")
    finally:
        store.clock = None


def test_display_values_use_the_users_time_zone(sim, store, monkeypatch):
    import datetime as dt

    assert store.user_tz("kompass.integration") == "Europe/Oslo" and store.user_tz("admin") == "UTC"
    inc = _at(store, dt.datetime(2030, 7, 1, 10, 0, 0))  # summer: Oslo is UTC+2
    url = f"{INC}/{inc['sys_id']}"
    out = sim.client().get(url, params={"sysparm_display_value": "all"}).json()["result"]
    assert out["sys_created_on"] == {"display_value": "2030-07-01 12:00:00", "value": "2030-07-01 10:00:00"}
    out = sim.client("admin").get(url, params={"sysparm_display_value": "true"}).json()["result"]
    assert out["sys_created_on"] == "2030-07-01 10:00:00"

    pysnc = pytest.importorskip("pysnc")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", sim.ca_path)
    sn = pysnc.ServiceNowClient(sim.url, ("kompass.integration", "kompass"), verify=sim.ca_path)
    gr = sn.GlideRecord("incident")
    assert gr.get(inc["sys_id"])
    assert gr.sys_created_on == "2030-07-01 10:00:00"
    assert gr.get_display_value("sys_created_on") == "2030-07-01 12:00:00"  # hours off if read by mistake


def test_input_display_value_dates_are_in_the_writers_zone(sim, store):
    c = sim.client()
    inc = _new(c)
    r = c.patch(
        f"{INC}/{inc['sys_id']}",
        params={"sysparm_input_display_value": "true"},
        json={"opened_at": "2030-01-15 09:00:00"},  # winter: Oslo is UTC+1
    )
    assert store.get("incident", inc["sys_id"])["opened_at"] == "2030-01-15 08:00:00"
    assert r.json()["result"]["opened_at"] == "2030-01-15 08:00:00"
    c.patch(f"{INC}/{inc['sys_id']}", json={"opened_at": "2030-01-15 09:00:00"})  # raw values are UTC
    assert store.get("incident", inc["sys_id"])["opened_at"] == "2030-01-15 09:00:00"


def test_journal_headers_are_in_the_readers_zone(sim, store):
    import datetime as dt

    inc = _new(sim.client())
    store.clock = lambda: dt.datetime(2030, 1, 15, 23, 30, 0)
    try:
        store.update("incident", inc["sys_id"], {"comments": "late"}, "itil.engineer1")
    finally:
        store.clock = None
    out = sim.client().get(f"{INC}/{inc['sys_id']}", params={"sysparm_display_value": "true"}).json()["result"]
    assert out["comments"].startswith("2030-01-16 00:30:00 - Ivar Engineer (Additional comments)")


def test_the_integration_users_zone_is_configurable(store):
    store.set_user_tz("kompass.integration", "UTC")
    assert store.user_tz("kompass.integration") == "UTC"
