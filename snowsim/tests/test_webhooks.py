"""snowsim.webhooks: signed outbound notifications, targets, faults and the admin endpoint."""

import json
import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from snowsim.faults import FaultConfig, FaultController
from snowsim.tests.receiver import Receiver
from snowsim.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDispatcher,
    WebhookTarget,
    admin_routes,
    sign,
    verify_signature,
)

SECRET = "s3cret"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def event(n=1, operation="update", table="incident", updated_by="itil.engineer1", correlation_id="K-1"):
    sys_id = f"{n:032x}"
    return {
        "table": table,
        "operation": operation,
        "sys_id": sys_id,
        "record": {
            "sys_id": sys_id,
            "number": f"INC{10000 + n:07d}",
            "correlation_id": correlation_id,
            "sys_updated_on": "2026-01-01 10:00:00",
            "sys_updated_by": updated_by,
            "sys_mod_count": str(n),
            "state": "2",
        },
        "changed_fields": ["state"],
        "journal": [
            {
                "sys_id": "j" * 32,
                "element": "comments",
                "element_id": sys_id,
                "name": table,
                "value": "hello",
                "sys_created_on": "2026-01-01 10:00:00",
                "sys_created_by": updated_by,
            }
        ],
    }


def dispatcher_for(receiver, config=None, seed=3, workers=1, **target):
    dispatcher = WebhookDispatcher(controller=FaultController(config or FaultConfig(), seed=seed), workers=workers)
    dispatcher.add_target(WebhookTarget(url=receiver.url, secret=SECRET, **target))
    return dispatcher.start()


# -- signature ------------------------------------------------------------------------------


def test_sign_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, b"{}") == f"sha256={expected}"


def test_verify_signature_accepts_a_valid_one_and_rejects_tampering():
    body = b'{"sys_id":"abc"}'
    now = 1_700_000_000
    header = sign(SECRET, now, body)
    assert verify_signature(SECRET, str(now), body, header, now=now)
    assert verify_signature(SECRET, now, body.decode(), header, now=now + 299)
    assert not verify_signature(SECRET, now, body + b" ", header, now=now)
    assert not verify_signature("other", now, body, header, now=now)
    assert not verify_signature(SECRET, now + 1, body, header, now=now)
    assert not verify_signature(SECRET, now, body, header, now=now + 301)  # stale: replay
    assert not verify_signature(SECRET, "x", body, header, now=now)
    assert not verify_signature(SECRET, now, body, None, now=now)
    assert not verify_signature("", now, body, header, now=now)


def test_verify_signature_also_accepts_base64_as_servicenow_generatemac_produces():
    import base64
    import hashlib
    import hmac

    body, now = b'{"a":1}', 1_700_000_000
    mac = base64.b64encode(hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).digest()).decode()
    assert verify_signature(SECRET, now, body, f"sha256={mac}", now=now)
    assert not verify_signature(SECRET, now, body + b"x", f"sha256={mac}", now=now)


# -- deliveries -----------------------------------------------------------------------------


def test_the_default_payload_is_what_the_business_rule_script_builds(receiver):
    dispatcher = dispatcher_for(receiver)
    dispatcher.listener(event(1))
    assert dispatcher.flush()
    dispatcher.stop()
    payload = receiver.payloads()[0]
    assert sorted(payload) == sorted(
        [
            "event_id",
            "table",
            "operation",
            "sys_id",
            "number",
            "correlation_id",
            "sys_updated_on",
            "sys_updated_by",
            "sys_mod_count",
            "state",
            "short_description",
            "latest_comment",
            "latest_work_note",
            "sent_at",
        ]
    )
    assert "record" not in payload and "journal" not in payload
    assert payload["state"] == "2"
    assert payload["latest_comment"] == "2026-01-01 10:00:00 - itil.engineer1 (Additional comments)\nhello\n\n"
    assert payload["latest_work_note"] == ""


def test_the_default_dispatcher_sends_from_several_threads_without_order():
    slow_first = Receiver(delay=lambda body: 0.4 if b'"sys_mod_count":"1"' in body else 0.0)
    try:
        dispatcher = WebhookDispatcher()
        assert dispatcher.workers > 1
        dispatcher.add_target(WebhookTarget(url=slow_first.url))
        dispatcher.start()
        for i in range(1, 4):
            dispatcher.listener(event(i))
        assert dispatcher.flush()
        dispatcher.stop()
        order = [p["sys_mod_count"] for p in slow_first.payloads()]
        assert sorted(order) == ["1", "2", "3"] and order[-1] == "1"  # the first change arrives last
    finally:
        slow_first.close()


def test_it_posts_a_signed_payload(receiver):
    dispatcher = dispatcher_for(receiver, payload="rich")
    dispatcher.listener(event(1, operation="insert"))
    assert dispatcher.flush()
    dispatcher.stop()
    [request] = receiver.requests
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], request["body"], headers[SIGNATURE_HEADER])
    payload = json.loads(request["body"])
    assert payload["event_id"] == headers[EVENT_ID_HEADER]
    assert payload["operation"] == "insert"
    assert payload["number"] == "INC0010001"
    assert payload["correlation_id"] == "K-1"
    assert payload["sys_mod_count"] == "1"
    assert payload["record"]["state"] == "2"
    assert payload["changed_fields"] == ["state"]
    assert payload["journal"][0]["value"] == "hello"
    assert payload["sent_at"]
    assert dispatcher.log[-1]["status"] == "delivered"


def test_targets_filter_by_table_operation_correlation_and_skip_user(receiver):
    dispatcher = dispatcher_for(
        receiver,
        tables=("incident",),
        operations=("update",),
        require_correlation_id=True,
        skip_updated_by=("kompass.integration",),
    )
    dispatcher.listener(event(1, table="sc_req_item"))
    dispatcher.listener(event(2, operation="delete"))
    dispatcher.listener(event(3, correlation_id=""))
    dispatcher.listener(event(4, updated_by="kompass.integration"))
    dispatcher.listener(event(5))
    assert dispatcher.flush()
    dispatcher.stop()
    assert [p["number"] for p in receiver.payloads()] == ["INC0010005"]
    assert [entry["status"] for entry in dispatcher.log] == ["skipped", "delivered"]


def test_failures_are_not_retried_by_default():
    failing = Receiver(status=500)
    try:
        dispatcher = dispatcher_for(failing)
        dispatcher.listener(event(1))
        assert dispatcher.flush()
        dispatcher.stop()
        assert len(failing.requests) == 1
        assert dispatcher.log[-1]["status"] == "failed"
        assert dispatcher.log[-1]["http_status"] == 500
    finally:
        failing.close()


def test_retries_are_opt_in():
    failing = Receiver(status=503)
    try:
        dispatcher = dispatcher_for(failing, retries=2)
        dispatcher.retry_base_s = 0.01
        dispatcher.listener(event(1))
        deadline = time.monotonic() + 5
        while len(dispatcher.log) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dispatcher.flush()
        dispatcher.stop()
        assert len(failing.requests) == 3
        assert [e["attempt"] for e in dispatcher.log] == [1, 2, 3]
        assert len({json.loads(r["body"])["event_id"] for r in failing.requests}) == 1
    finally:
        failing.close()


def test_an_unreachable_target_is_logged_as_failed():
    dispatcher = WebhookDispatcher()
    dispatcher.add_target(WebhookTarget(url="http://127.0.0.1:9/nothing", timeout_s=1))
    dispatcher.start()
    dispatcher.listener(event(1))
    assert dispatcher.flush()
    dispatcher.stop()
    assert dispatcher.log[-1]["status"] == "failed"
    assert "Error" in dispatcher.log[-1]["detail"]


# -- webhook faults -------------------------------------------------------------------------


def run_events(config, seed, n=30):
    receiver = Receiver()
    try:
        dispatcher = dispatcher_for(receiver, config, seed=seed)
        for i in range(1, n + 1):
            dispatcher.listener(event(i))
        assert dispatcher.flush()
        dispatcher.stop()
        return [p["sys_mod_count"] for p in receiver.payloads()], list(dispatcher.log)
    finally:
        receiver.close()


def test_drop_is_deterministic_for_a_seed():
    config = FaultConfig(webhook_drop=0.3)
    first, log = run_events(config, seed=11)
    second, _ = run_events(config, seed=11)
    assert first == second
    assert 10 < len(first) < 30
    dropped = [e["sys_mod_count"] for e in log if e["status"] == "dropped"]
    assert len(dropped) == 30 - len(first)
    assert set(dropped).isdisjoint(first)


def test_duplicates_carry_the_same_event_id():
    receiver = Receiver()
    try:
        dispatcher = dispatcher_for(receiver, FaultConfig(webhook_dup=1.0))
        dispatcher.listener(event(1))
        assert dispatcher.flush()
        dispatcher.stop()
        ids = [r["headers"][EVENT_ID_HEADER] for r in receiver.requests]
        assert len(ids) == 2 and ids[0] == ids[1]
    finally:
        receiver.close()


def test_dup_is_deterministic_for_a_seed():
    config = FaultConfig(webhook_dup=0.3)
    first, _ = run_events(config, seed=4)
    assert first == run_events(config, seed=4)[0]
    assert 30 < len(first) < 60


def test_delay_holds_the_delivery_back():
    receiver = Receiver()
    try:
        dispatcher = dispatcher_for(receiver, FaultConfig(webhook_delay_ms=(150, 150)))
        started = time.monotonic()
        dispatcher.listener(event(1))
        time.sleep(0.05)
        assert receiver.requests == []
        assert dispatcher.flush()
        assert time.monotonic() - started >= 0.14
        dispatcher.stop()
        assert dispatcher.log[-1]["faults"] == ["delay"]
    finally:
        receiver.close()


def test_reorder_delivers_a_held_notification_after_the_next_one():
    receiver = Receiver()
    try:
        dispatcher = WebhookDispatcher(controller=FaultController(FaultConfig(webhook_reorder=1.0)))
        dispatcher.add_target(WebhookTarget(url=receiver.url, secret=SECRET))
        dispatcher.start()
        dispatcher.listener(event(1))  # held back
        dispatcher.controller.update(FaultConfig())
        dispatcher.listener(event(2))  # goes out first, then releases 1
        assert dispatcher.flush()
        dispatcher.stop()
        assert [p["sys_mod_count"] for p in receiver.payloads()] == ["2", "1"]
    finally:
        receiver.close()


def test_reorder_is_deterministic_for_a_seed():
    config = FaultConfig(webhook_reorder=0.3)
    first, _ = run_events(config, seed=8)
    assert first == run_events(config, seed=8)[0]
    assert sorted(first, key=int) == [str(i) for i in range(1, 31)]
    assert first != sorted(first, key=int)


# -- admin endpoint -------------------------------------------------------------------------


def test_admin_webhooks_endpoint(receiver):
    dispatcher = WebhookDispatcher().start()
    client = TestClient(Starlette(routes=admin_routes(dispatcher)))
    assert client.get("/snowsim/admin/webhooks").status_code == 401
    assert client.post("/snowsim/admin/webhooks", json={"url": receiver.url}, auth=("admin", "x")).status_code == 401
    response = client.post(
        "/snowsim/admin/webhooks",
        auth=("admin", "admin"),
        json={
            "url": receiver.url,
            "secret": SECRET,
            "tables": "incident",
            "skip_updated_by": ["kompass.integration"],
        },
    )
    assert response.status_code == 201
    target = response.json()["result"]
    assert target["secret"] == "***" and target["skip_updated_by"] == ["kompass.integration"]
    assert client.post("/snowsim/admin/webhooks", auth=("admin", "admin"), json={"url": "ftp://x"}).status_code == 400
    dispatcher.listener(event(1))
    assert dispatcher.flush()
    state = client.get("/snowsim/admin/webhooks", auth=("admin", "admin")).json()
    assert [t["url"] for t in state["targets"]] == [receiver.url]
    assert state["log"][0]["status"] == "delivered"
    assert client.delete(f"/snowsim/admin/webhooks/{target['id']}", auth=("admin", "admin")).status_code == 204
    assert client.delete(f"/snowsim/admin/webhooks/{target['id']}", auth=("admin", "admin")).status_code == 404
    assert client.get("/snowsim/admin/webhooks", auth=("admin", "admin")).json()["targets"] == []
    dispatcher.stop()


def test_a_target_sends_its_extra_headers_and_hides_their_values(receiver):
    """A real REST message record can carry an Authorization header (Kompass wants its integration token)."""
    dispatcher = dispatcher_for(receiver, headers={"Authorization": "Token kmp_secret"})
    target = dispatcher.targets[0]
    assert target.public()["headers"] == {"Authorization": "***"}
    dispatcher.listener(event(1))
    assert dispatcher.flush()
    dispatcher.stop()
    headers = {name.lower(): value for name, value in receiver.requests[0]["headers"].items()}
    assert headers["authorization"] == "Token kmp_secret"
    assert headers[SIGNATURE_HEADER.lower()].startswith("sha256=")
