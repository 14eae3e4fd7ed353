"""Table, Attachment and Batch API behaviour over HTTP (Starlette TestClient)."""

from __future__ import annotations

import base64
import json
import re

import pytest

from snowsim.tables import PRIORITY_MATRIX

INC = "/api/now/table/incident"


def _new(client, **values):
    r = client.post(INC, json={"short_description": "test", **values})
    assert r.status_code == 201, r.text
    return r.json()["result"]


def _all_strings(obj):
    if isinstance(obj, dict):
        return all(_all_strings(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_all_strings(v) for v in obj)
    return isinstance(obj, str)


# --------------------------------------------------------------------------- CRUD and shapes


def test_create_shape(client, store):
    r = client.post(
        INC,
        json={
            "short_description": "Printer",
            "impact": 1,
            "urgency": "2",
            "active": False,
            "bogus_field": "x",
            "sys_created_by": "mallory",
            "priority": "5",
        },
    )
    assert r.status_code == 201
    rec = r.json()["result"]
    assert r.headers["Location"] == f"https://testserver{INC}/{rec['sys_id']}"
    assert re.fullmatch(r"[0-9a-f]{32}", rec["sys_id"])
    assert rec["number"] == "INC0010001"
    assert rec["priority"] == "2"  # computed, client value ignored
    assert rec["sys_created_by"] == "admin"
    assert rec["sys_mod_count"] == "0"
    assert "bogus_field" not in rec
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rec["sys_created_on"])
    assert rec["opened_by"] == {
        "link": f"https://testserver/api/now/table/sys_user/{store.sid('sys_user', 'admin')}",
        "value": store.sid("sys_user", "admin"),
    }
    assert rec["caller_id"] == ""
    assert rec["comments"] == "" and rec["work_notes"] == ""
    assert _all_strings(rec)
    assert _new(client)["number"] == "INC0010002"


def test_get_update_delete(client):
    rec = _new(client)
    url = f"{INC}/{rec['sys_id']}"
    assert client.get(url).json()["result"]["sys_id"] == rec["sys_id"]
    r = client.put(url, json={"description": "via put"})
    assert r.status_code == 200 and r.json()["result"]["description"] == "via put"
    r = client.patch(url, json={"short_description": "via patch"})
    body = r.json()["result"]
    assert body["short_description"] == "via patch" and body["description"] == "via put"
    assert body["sys_mod_count"] == "2"
    r = client.delete(url)
    assert r.status_code == 204 and r.content == b""
    r = client.get(url)
    assert r.status_code == 404
    assert r.json() == {
        "error": {"message": "No Record found", "detail": "Record doesn't exist or ACL restricts the record retrieval"},
        "status": "failure",
    }
    assert client.delete(url).status_code == 404
    assert client.patch(url, json={"a": "b"}).status_code == 404


def test_versioned_paths_and_empty_lists(client):
    _new(client)
    for prefix in ("/api/now/table", "/api/now/v1/table", "/api/now/v2/table"):
        r = client.get(f"{prefix}/incident")
        assert r.status_code == 200 and len(r.json()["result"]) == 1
    assert client.get("/api/now/table/incident?sysparm_query=number=X").json() == {"result": []}
    assert client.get("/api/now/v2/table/incident?sysparm_query=number=X").status_code == 200
    r = client.get("/api/now/v1/table/incident?sysparm_query=number=X")
    assert r.status_code == 404 and r.json()["status"] == "failure"


def test_no_response_body_header(client):
    r = client.post(INC, json={"short_description": "quiet"}, headers={"X-no-response-body": "true"})
    assert r.status_code == 201 and r.content == b"" and "Location" in r.headers
    sid = r.headers["Location"].rsplit("/", 1)[1]
    r = client.patch(f"{INC}/{sid}", json={"description": "x"}, headers={"X-no-response-body": "true"})
    assert r.status_code == 200 and r.content == b""


def test_fields_and_unknown_fields_ignored(client):
    rec = _new(client, caller_id="")
    r = client.get(f"{INC}/{rec['sys_id']}", params={"sysparm_fields": "number,nope,state,opened_by.user_name"})
    assert r.json()["result"] == {"number": "INC0010001", "state": "1", "opened_by.user_name": "admin"}


def test_shorthand_filters_accept_display_values(client, store):
    beth = store.sid("sys_user", "beth.anglin")
    _new(client, caller_id=beth, state="2")
    _new(client)
    assert len(client.get(INC, params={"state": "In Progress"}).json()["result"]) == 1
    assert len(client.get(INC, params={"state": "2"}).json()["result"]) == 1
    assert len(client.get(INC, params={"caller_id": "Beth Anglin"}).json()["result"]) == 1
    assert len(client.get(INC, params={"caller_id": beth, "sysparm_query": "active=true"}).json()["result"]) == 2


def test_input_display_value(client, store):
    rec = _new(client)
    r = client.patch(
        f"{INC}/{rec['sys_id']}?sysparm_input_display_value=true",
        json={"assignment_group": "Network", "caller_id": "Beth Anglin", "category": "Software", "impact": "1 - High"},
    )
    out = r.json()["result"]
    assert out["assignment_group"]["value"] == store.sid("sys_user_group", "Network")
    assert out["caller_id"]["value"] == store.sid("sys_user", "beth.anglin")
    assert out["category"] == "software"
    assert out["impact"] == "1"


# --------------------------------------------------------------------------- display modes


def test_display_modes(client, store):
    beth = store.sid("sys_user", "beth.anglin")
    rec = _new(client, caller_id=beth, state="2")
    url = f"{INC}/{rec['sys_id']}"
    link = f"https://testserver/api/now/table/sys_user/{beth}"

    def get(**params):
        return client.get(url, params={"sysparm_fields": "caller_id,state,assigned_to,sys_mod_count", **params}).json()[
            "result"
        ]

    assert get() == {"caller_id": {"link": link, "value": beth}, "state": "2", "assigned_to": "", "sys_mod_count": "0"}
    assert get(sysparm_exclude_reference_link="true")["caller_id"] == beth
    assert get(sysparm_display_value="true") == {
        "caller_id": {"display_value": "Beth Anglin", "link": link},
        "state": "In Progress",
        "assigned_to": "",
        "sys_mod_count": "0",
    }
    assert get(sysparm_display_value="true", sysparm_exclude_reference_link="true")["caller_id"] == "Beth Anglin"
    assert get(sysparm_display_value="all") == {
        "caller_id": {"display_value": "Beth Anglin", "link": link, "value": beth},
        "state": {"display_value": "In Progress", "value": "2"},
        "assigned_to": {"display_value": "", "value": ""},
        "sys_mod_count": {"display_value": "0", "value": "0"},
    }
    assert get(sysparm_display_value="all", sysparm_exclude_reference_link="true")["caller_id"] == {
        "display_value": "Beth Anglin",
        "value": beth,
    }
    full = client.get(url, params={"sysparm_display_value": "all"}).json()["result"]
    assert _all_strings(full)


# --------------------------------------------------------------------------- list headers


def test_total_count_and_link_header(client):
    for i in range(7):
        _new(client, description=f"d{i}")
    r = client.get(
        INC,
        params={
            "sysparm_query": "descriptionSTARTSWITHd^ORDERBYdescription",
            "sysparm_limit": "3",
            "sysparm_offset": "3",
        },
    )
    assert r.headers["X-Total-Count"] == "7"
    assert [x["description"] for x in r.json()["result"]] == ["d3", "d4", "d5"]
    links = {rel: url for url, rel in re.findall(r'<([^>]+)>;rel="(\w+)"', r.headers["Link"])}
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["first"].endswith("sysparm_offset=0&sysparm_limit=3")
    assert "sysparm_query=descriptionSTARTSWITHd%5EORDERBYdescription" in links["next"]
    assert "sysparm_offset=6" in links["next"] and "sysparm_offset=0" in links["prev"]
    assert "sysparm_offset=6" in links["last"]

    r = client.get(INC, params={"sysparm_limit": "3", "sysparm_suppress_pagination_header": "true"})
    assert "Link" not in r.headers and r.headers["X-Total-Count"] == "7"
    r = client.get(INC, params={"sysparm_limit": "3", "sysparm_no_count": "true"})
    assert "X-Total-Count" not in r.headers and len(r.json()["result"]) == 3
    assert client.get(INC).headers["X-Total-Count"] == "7"


def test_bad_params(client):
    r = client.get(INC, params={"sysparm_offset": "-1"})
    assert r.status_code == 400 and r.json()["status"] == "failure"
    assert client.get(INC, params={"sysparm_limit": "abc"}).status_code == 400


# --------------------------------------------------------------------------- errors


def test_error_shapes(client, app):
    from starlette.testclient import TestClient

    r = client.get("/api/now/table/no_such_table")
    assert r.status_code == 400
    assert r.json() == {"error": {"message": "Invalid table no_such_table", "detail": ""}, "status": "failure"}

    anon = TestClient(app, base_url="https://testserver")
    r = anon.get(INC)
    assert r.status_code == 401
    assert r.json() == {
        "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
        "status": "failure",
    }
    assert "WWW-Authenticate" in r.headers
    assert anon.get(INC, auth=("admin", "nope")).status_code == 401

    r = client.post(INC, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["message"]
    assert client.post(INC, content=b"[1]", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post(INC, content=b"a=b", headers={"Content-Type": "text/plain"}).status_code == 415
    r = client.put(INC, json={})
    assert r.status_code == 405 and r.json()["status"] == "failure"
    assert client.get(INC, headers={"Accept": "application/xml"}).status_code == 406
    r = client.get("/api/now/nothing/here")
    assert r.status_code == 400 and r.json()["status"] == "failure"


def _as(app, user, password):
    from starlette.testclient import TestClient

    c = TestClient(app, base_url="https://testserver")
    c.auth = (user, password)
    return c


def test_acl(app, store):
    rec = store.insert("incident", {"short_description": "secret", "work_notes": "hidden"}, "admin")
    nobody = _as(app, "no.roles", "no.roles")
    r = nobody.get(INC)
    assert r.status_code == 200 and r.json()["result"] == [] and r.headers["X-Total-Count"] == "0"
    assert nobody.get(f"{INC}/{rec['sys_id']}").status_code == 404
    r = nobody.post(INC, json={"short_description": "x"})
    assert r.status_code == 403 and r.json()["status"] == "failure"
    assert nobody.get("/api/now/table/sys_user_group").json()["result"]  # reference data stays readable

    itil = _as(app, "beth.anglin", "beth.anglin")
    assert itil.patch(f"{INC}/{rec['sys_id']}", json={"description": "ok"}).status_code == 200
    assert itil.delete(f"{INC}/{rec['sys_id']}").status_code == 403
    assert itil.get("/api/now/table/sys_journal_field").json()["result"] == []

    integ = _as(app, "kompass.integration", "kompass")
    rows = integ.get(
        "/api/now/table/sys_journal_field", params={"sysparm_query": f"element_id={rec['sys_id']}"}
    ).json()["result"]
    assert [row["value"] for row in rows] == ["hidden"]
    assert integ.post("/api/now/table/sys_journal_field", json={"value": "x"}).status_code == 403


# --------------------------------------------------------------------------- business rules


@pytest.mark.parametrize(("impact", "urgency"), list(PRIORITY_MATRIX))
def test_priority_matrix(client, impact, urgency):
    rec = _new(client, impact=impact, urgency=urgency, priority="1")
    assert rec["priority"] == PRIORITY_MATRIX[(impact, urgency)]
    other = "1" if urgency != "1" else "3"
    r = client.patch(f"{INC}/{rec['sys_id']}", json={"urgency": other, "priority": "5"})
    assert r.json()["result"]["priority"] == PRIORITY_MATRIX[(impact, other)]


def test_resolve_and_close_policy(client, store):
    rec = _new(client)
    url = f"{INC}/{rec['sys_id']}"
    r = client.patch(url, json={"state": "6"})
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "Operation Failed"
    assert "Resolution code" in r.json()["error"]["detail"]
    assert store.get("incident", rec["sys_id"])["state"] == "1"
    assert client.patch(url, json={"state": "6", "close_code": "Solution provided"}).status_code == 403
    r = client.patch(
        url,
        json={"state": "6", "close_code": "Solution provided", "close_notes": "fixed"},
        params={"sysparm_exclude_reference_link": "true"},
    )
    out = r.json()["result"]
    assert r.status_code == 200
    assert out["incident_state"] == "6" and out["resolved_at"] and out["active"] == "true"
    assert out["resolved_by"] == store.sid("sys_user", "admin")
    r = client.patch(url, json={"state": "7"}, params={"sysparm_exclude_reference_link": "true"})
    out = r.json()["result"]
    assert out["closed_at"] and out["closed_by"] == store.sid("sys_user", "admin") and out["active"] == "false"
    r = client.patch(url, json={"state": "2"})  # a Closed incident cannot be reopened, not even by admin
    assert r.status_code == 403
    assert r.json()["error"]["detail"] == "ACL Exception Update Failed due to security constraints"
    other = _new(client)
    url = f"{INC}/{other['sys_id']}"
    client.patch(url, json={"state": "6", "close_code": "Solution provided", "close_notes": "fixed"})
    r = client.patch(url, json={"state": "2"})  # Resolved ones can
    out = r.json()["result"]
    assert out["reopen_count"] == "1" and out["resolved_at"] == "" and out["active"] == "true"


def test_hold_reason_and_state_mirror(client):
    rec = _new(client)
    url = f"{INC}/{rec['sys_id']}"
    assert client.patch(url, json={"state": "3"}).status_code == 403
    out = client.patch(url, json={"state": "3", "hold_reason": "4"}).json()["result"]
    assert out["incident_state"] == "3" and out["hold_reason"] == "4"
    out = client.patch(url, json={"incident_state": "2"}).json()["result"]
    assert out["state"] == "2" and out["hold_reason"] == ""


def test_journal_behaviour(client, store):
    rec = _new(client, comments="first comment")
    url = f"{INC}/{rec['sys_id']}"
    client.patch(url, json={"work_notes": "a note"})
    client.patch(url, json={"comments": ""})  # adds nothing
    r = client.patch(url, json={"comments": "second comment"}, params={"sysparm_display_value": "all"})
    out = r.json()["result"]
    assert out["comments"]["value"] == ""
    header = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - System Administrator"
    assert re.fullmatch(
        f"{header} \\(Additional comments\\)\nsecond comment\n\n{header} \\(Additional comments\\)\nfirst comment\n\n",
        out["comments"]["display_value"],
    )
    assert re.fullmatch(f"{header} \\(Work notes\\)\na note\n\n", out["work_notes"]["display_value"])
    combined = out["comments_and_work_notes"]["display_value"]
    assert combined.index("second comment") < combined.index("a note") < combined.index("first comment")
    raw = client.get(url).json()["result"]
    assert raw["comments"] == "" and raw["work_notes"] == ""
    rows = client.get(
        "/api/now/table/sys_journal_field",
        params={"sysparm_query": f"element_id={rec['sys_id']}^elementINcomments,work_notes^ORDERBYsys_created_on"},
    ).json()["result"]
    # same-second rows: no order within the tie (no ordering gifts), so compare as a set
    assert sorted((j["element"], j["value"], j["name"], j["sys_created_by"]) for j in rows) == sorted(
        [
            ("comments", "first comment", "incident", "admin"),
            ("work_notes", "a note", "incident", "admin"),
            ("comments", "second comment", "incident", "admin"),
        ]
    )
    assert out["sys_mod_count"]["value"] == "2"  # the empty comment was not a write


def test_listener_events(store):
    events = []
    store.add_listener(events.append)
    store.add_listener(lambda e: 1 / 0)  # a failing listener must not break writes
    rec = store.insert("incident", {"short_description": "x", "comments": "hi"}, "admin")
    store.update("incident", rec["sys_id"], {"work_notes": "n", "urgency": "1"}, "beth.anglin")
    store.delete("incident", rec["sys_id"], "admin")
    assert [e["operation"] for e in events] == ["insert", "update", "delete"]
    upd = events[1]
    assert upd["table"] == "incident" and upd["sys_id"] == rec["sys_id"]
    assert {"urgency", "priority", "work_notes"} <= set(upd["changed_fields"])
    assert upd["record"]["sys_mod_count"] == "1" and upd["record"]["sys_updated_by"] == "beth.anglin"
    assert [(j["element"], j["value"], j["sys_created_by"]) for j in upd["journal"]] == [
        ("work_notes", "n", "beth.anglin")
    ]
    assert set(upd["journal"][0]) >= {
        "sys_id",
        "element",
        "element_id",
        "name",
        "value",
        "sys_created_on",
        "sys_created_by",
    }


def test_other_tables(client):
    r = client.post("/api/now/table/sc_req_item", json={"short_description": "laptop", "quantity": "2"})
    assert r.status_code == 201 and r.json()["result"]["number"] == "RITM0010001"
    r = client.post("/api/now/table/change_request", json={"short_description": "patch", "type": "standard"})
    assert r.json()["result"]["number"] == "CHG0030001"
    choices = client.get(
        "/api/now/table/sys_choice",
        params={"sysparm_query": "name=incident^element=close_code", "sysparm_fields": "value,label"},
    ).json()["result"]
    assert {"value": "Solved (Permanently)", "label": "Solved (Permanently)"} in choices
    assert {"value": "Duplicate", "label": "Duplicate"} in choices
    groups = client.get("/api/now/table/sys_user_group", params={"sysparm_fields": "name"}).json()["result"]
    assert {"name": "Service Desk"} in groups


# --------------------------------------------------------------------------- attachments


def test_attachment_api(client, store):
    rec = _new(client)
    base = "/api/now/attachment"
    params = {"table_name": "incident", "table_sys_id": rec["sys_id"], "file_name": "log.txt"}
    r = client.post(f"{base}/file", params=params, content=b"line1\nline2", headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    meta = r.json()["result"]
    assert r.headers["Location"].endswith(f"/api/now/attachment/{meta['sys_id']}")
    for key in (
        "sys_id",
        "file_name",
        "content_type",
        "size_bytes",
        "size_compressed",
        "compressed",
        "table_name",
        "table_sys_id",
        "download_link",
        "image_width",
        "image_height",
        "average_image_color",
        "sys_created_on",
        "sys_created_by",
        "sys_updated_on",
        "sys_updated_by",
        "sys_mod_count",
        "sys_tags",
        "created_by_name",
        "updated_by_name",
    ):
        assert isinstance(meta[key], str), key
    assert meta["size_bytes"] == "11" and meta["content_type"] == "text/plain"
    assert meta["download_link"] == f"https://testserver/api/now/attachment/{meta['sys_id']}/file"
    assert meta["created_by_name"] == "System Administrator"

    r = client.get(f"/api/now/v1/attachment/{meta['sys_id']}/file")
    assert r.content == b"line1\nline2" and r.headers["Content-Type"].startswith("text/plain")
    assert client.get(f"{base}/{meta['sys_id']}").json()["result"]["file_name"] == "log.txt"

    files = {
        "table_name": (None, "incident"),
        "table_sys_id": (None, rec["sys_id"]),
        "uploadFile": ("pic.png", b"\x89PNG data", "image/png"),
    }
    r = client.post(f"{base}/upload", files=files)
    assert r.status_code == 201, r.text
    assert r.json()["result"]["file_name"] == "pic.png" and r.json()["result"]["content_type"] == "image/png"

    r = client.get(
        base, params={"sysparm_query": f"table_name=incident^table_sys_id={rec['sys_id']}", "sysparm_limit": "1"}
    )
    assert r.headers["X-Total-Count"] == "2" and len(r.json()["result"]) == 1

    r = client.post(f"{base}/file", params=params, content=b"x", headers={"Content-Type": ""})
    assert r.status_code == 400
    r = client.post(
        f"{base}/file", params={"table_name": "incident"}, content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 400
    r = client.post(
        f"{base}/file",
        params={**params, "table_sys_id": "0" * 32},
        content=b"x",
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 404

    assert client.delete(f"{base}/{meta['sys_id']}").status_code == 204
    assert client.get(f"{base}/{meta['sys_id']}").status_code == 404
    assert store.attachment_data(meta["sys_id"]) is None


# --------------------------------------------------------------------------- batch


def _b64(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def test_batch_api(client, store):
    rec = _new(client)
    body = {
        "batch_request_id": 17,
        "rest_requests": [
            {
                "id": "a",
                "method": "GET",
                "url": f"{INC}/{rec['sys_id']}?sysparm_fields=number",
                "headers": [{"name": "Accept", "value": "application/json"}],
            },
            {
                "id": "b",
                "method": "PATCH",
                "url": f"{INC}/{rec['sys_id']}",
                "headers": [{"name": "Content-Type", "value": "application/json"}],
                "body": _b64({"description": "batched"}),
            },
            {
                "id": "c",
                "method": "POST",
                "url": INC,
                "headers": [{"name": "Content-Type", "value": "application/json"}],
                "body": _b64({"short_description": "batch insert"}),
            },
            {"id": "d", "method": "DELETE", "url": f"{INC}/{'0' * 32}", "headers": []},
            {"id": "e", "method": "GET", "url": "/api/now/table/nope", "headers": []},
            {"id": "f", "method": "GET", "url": f"{INC}?sysparm_query=descriptionLIKEbatched", "headers": []},
        ],
    }
    r = client.post("/api/now/v1/batch", json=body)
    assert r.status_code == 200
    data = r.json()
    assert data["batch_request_id"] == "17"
    assert data["unserviced_requests"] == []
    by_id = {s["id"]: s for s in data["serviced_requests"]}
    assert [s["id"] for s in data["serviced_requests"]] == ["a", "b", "c", "d", "e", "f"]
    for s in data["serviced_requests"]:
        assert isinstance(s["status_code"], int) and isinstance(s["execution_time"], int)
        assert isinstance(s["headers"], list) and isinstance(s["status_text"], str)
    assert json.loads(base64.b64decode(by_id["a"]["body"])) == {"result": {"number": "INC0010001"}}
    assert by_id["b"]["status_code"] == 200 and by_id["b"]["status_text"] == "OK"
    assert by_id["c"]["status_code"] == 201
    assert any(h["name"] == "Location" for h in by_id["c"]["headers"])
    assert by_id["d"]["status_code"] == 404 and by_id["e"]["status_code"] == 400
    assert {"name": "X-Total-Count", "value": "1"} in by_id["f"]["headers"]
    assert store.get("incident", rec["sys_id"])["description"] == "batched"

    assert (
        client.post("/api/now/v1/batch", content=b"nope", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert client.post("/api/now/v1/batch", json={"batch_request_id": 1}).status_code == 400
