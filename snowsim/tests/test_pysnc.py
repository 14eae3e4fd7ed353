"""ServiceNow's own client (pysnc 1.2.1) against a live snowsim over HTTPS."""

from __future__ import annotations

import pytest

pysnc = pytest.importorskip("pysnc")
from pysnc import ServiceNowClient  # noqa: E402
from pysnc.auth import ServiceNowClientCredentialsFlow  # noqa: E402


@pytest.fixture(autouse=True)
def _trust_live_ca(live_server, monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override ``session.verify`` on pysnc's send path,
    and token requests in pysnc's OAuth flows pass no ``verify`` at all: point both at our test CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", live_server.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", live_server.ca_path)


@pytest.fixture
def sn(live_server):
    return ServiceNowClient(live_server.url, ("admin", "admin"), verify=live_server.ca_path)


def _make(store, n, **extra):
    ids = []
    for i in range(n):
        rec = store.insert(
            "incident", {"short_description": f"pysnc item {i:03d}", "urgency": str(1 + i % 3), **extra}, "admin"
        )
        ids.append(rec["sys_id"])
    return ids


def test_insert_get_update_delete(sn, live_server):
    gr = sn.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "created by pysnc"
    gr.impact = "1"
    gr.urgency = "1"
    gr.correlation_id = "KOMPASS-1"
    sys_id = gr.insert()
    assert sys_id and len(str(sys_id)) == 32
    assert gr.priority == "1"
    assert gr.get_display_value("priority") == "1 - Critical"
    assert str(gr.number).startswith("INC")

    gr2 = sn.GlideRecord("incident")
    assert gr2.get(str(sys_id))
    assert gr2.short_description == "created by pysnc"
    assert gr2.get_display_value("state") == "New"
    gr2.short_description = "changed"
    gr2.work_notes = "a work note"
    gr2.update()
    assert gr2.sys_mod_count == "1"
    stored = live_server.store.get("incident", str(sys_id))
    assert stored["short_description"] == "changed"
    assert [j["value"] for j in live_server.store.journal(str(sys_id))] == ["a work note"]

    gr3 = sn.GlideRecord("incident")
    assert gr3.get("correlation_id", "KOMPASS-1")
    assert gr3.sys_id == str(sys_id)
    assert gr3.delete()
    assert live_server.store.get("incident", str(sys_id)) is None
    assert not sn.GlideRecord("incident").get(str(sys_id))


def test_query_ordering_and_pagination(sn, live_server):
    _make(live_server.store, 25)
    gr = sn.GlideRecord("incident", batch_size=7)
    gr.add_query("short_description", "STARTSWITH", "pysnc item")
    gr.add_encoded_query("urgency!=3")
    gr.order_by_desc("short_description")
    gr.query()
    names = [r.short_description.get_value() for r in gr]
    expected = sorted((f"pysnc item {i:03d}" for i in range(25) if (1 + i % 3) != 3), reverse=True)
    assert names == expected
    assert len(gr) == len(expected)

    gr = sn.GlideRecord("incident", batch_size=10)
    gr.add_query("urgency", "1")
    gr.add_query("short_description", "LIKE", "item")
    gr.order_by("short_description")
    gr.query()
    assert [r.short_description.get_value() for r in gr] == [f"pysnc item {i:03d}" for i in range(0, 25, 3)]


def test_or_condition_and_fields(sn, live_server):
    _make(live_server.store, 6)
    gr = sn.GlideRecord("incident")
    qc = gr.add_query("short_description", "pysnc item 001")
    qc.add_or_condition("short_description", "pysnc item 004")
    gr.fields = ["number", "short_description"]
    gr.query()
    got = sorted(r.short_description.get_value() for r in gr)
    assert got == ["pysnc item 001", "pysnc item 004"]


def test_reference_display_values(sn, live_server):
    store = live_server.store
    beth = store.sid("sys_user", "beth.anglin")
    store.insert("incident", {"short_description": "ref", "caller_id": beth}, "admin")
    gr = sn.GlideRecord("incident")
    gr.add_query("caller_id", beth)
    gr.query()
    assert gr.next()
    assert gr.caller_id == beth
    assert gr.get_display_value("caller_id") == "Beth Anglin"


def test_update_multiple_and_delete_multiple_via_batch(sn, live_server):
    store = live_server.store
    _make(store, 12)
    gr = sn.GlideRecord("incident", batch_size=5)
    gr.add_query("short_description", "STARTSWITH", "pysnc item")
    gr.query()
    for r in gr:
        r.description = "bulk"
    assert gr.update_multiple()
    rows, total = store.query("incident", "description=bulk")
    assert total == 12

    gr = sn.GlideRecord("incident")
    gr.add_query("description", "bulk")
    assert gr.delete_multiple()
    assert store.query("incident", "")[1] == 0


def test_attachments(sn, live_server):
    store = live_server.store
    sid = _make(store, 1)[0]
    gr = sn.GlideRecord("incident")
    assert gr.get(sid)
    location = gr.add_attachment("hello.txt", b"hello world", "text/plain")
    assert "/api/now/attachment/" in location
    attachments = gr.get_attachments()
    assert len(attachments) == 1
    for a in attachments:
        assert a.file_name == "hello.txt"
        assert a.content_type == "text/plain"
        assert a.size_bytes == "11"
        assert a.read() == b"hello world"
        a.delete()
    assert store.query("sys_attachment", "")[1] == 0


def test_basic_auth_failure(live_server):
    from pysnc.exceptions import AuthenticationException

    sn = ServiceNowClient(live_server.url, ("admin", "wrong"), verify=live_server.ca_path)
    gr = sn.GlideRecord("incident")
    with pytest.raises(AuthenticationException):
        gr.query()


def test_no_roles_user_sees_nothing_and_cannot_write(live_server):
    from pysnc.exceptions import InsertException, RoleException

    _make(live_server.store, 3)
    sn = ServiceNowClient(live_server.url, ("no.roles", "no.roles"), verify=live_server.ca_path)
    gr = sn.GlideRecord("incident")
    gr.query()
    assert len(gr) == 0
    gr = sn.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "nope"
    with pytest.raises((RoleException, InsertException)):
        gr.insert()


def test_client_credentials_flow(live_server):
    flow = ServiceNowClientCredentialsFlow("kompass", "kompass-secret")
    sn = ServiceNowClient(live_server.url, flow, verify=live_server.ca_path)
    gr = sn.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "via oauth"
    gr.insert()
    assert live_server.store.get("incident", str(gr.sys_id))["sys_created_by"] == "kompass.integration"


def test_password_grant_flow(live_server):
    pytest.importorskip("requests_oauthlib")
    from pysnc.auth import ServiceNowPasswordGrantFlow

    flow = ServiceNowPasswordGrantFlow("kompass.integration", "kompass", "kompass", "kompass-secret")
    sn = ServiceNowClient(live_server.url, flow, verify=live_server.ca_path)
    gr = sn.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "via password grant"
    gr.insert()
    assert live_server.store.get("incident", str(gr.sys_id))["sys_created_by"] == "kompass.integration"
