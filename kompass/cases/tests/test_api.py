"""The cases API: the role × endpoint × method table (written by hand), errors, notes, attachments, filters."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kompass.cases import services
from kompass.cases.models import Attachment, Case, CaseChange, Note, Reply
from kompass.cases.services import ChangeOrigin
from kompass.core.models import Organisation, User
from kompass.testing.cast import CAST
from kompass.testing.matrix import access_tables, assert_every_rule_is_tested, check_access_table

pytestmark = pytest.mark.django_db

TABLES = []
access_table = access_tables(TABLES)

#: Who sees case "a" (alfa, requested by the requester, about the system the owner owns) and case "b" (beta).
SEE_A = {"admin", "agreement", "desk", "kam", "it_contact", "owner", "agency_admin", "requester"}
SEE_B = {"admin", "agreement", "desk"}
SEE_C = SEE_A - {"owner"}  # case "c" of alfa is about no system
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def api_status(ok, allowed, *, seen=SEE_A, hidden=404):
    """``ok`` for ``allowed``; 403 for those who see the case but may not; ``hidden`` for those who do not see it."""
    statuses = {}
    for key in CAST:
        if key == "vendor":
            statuses[key] = {"session": 401, "token": 403}
        elif key in allowed:
            statuses[key] = ok
        elif key == "noroles":
            statuses[key] = 403  # may see no case at all
        elif key in seen:
            statuses[key] = 403
        else:
            statuses[key] = hidden
    return statuses


def table(*rows):
    return {(role, method, url): status for method, url, statuses in rows for role, status in statuses.items()}


@pytest.fixture
def world(cast, agencies, systems, service):
    Organisation.current()  # the error pages read it; made here so a refusal changes nothing
    beta_user = User.objects.create_user(
        "ansatt.beta@test.example", "x", full_name="Beta", home_agency=agencies["beta"]
    )
    desk = ChangeOrigin.by_user(cast["desk"])
    a = services.create_case(
        requester=cast["requester"], service=service, system=systems["alfa"], title="A", origin=desk
    )
    b = services.create_case(requester=beta_user, service=service, title="B", origin=desk)
    c = services.create_case(requester=cast["requester"], service=service, title="C", origin=desk)
    services.transition(c, Case.State.RESOLVED, resolution="Fikset", origin=desk)
    services.transition(c, Case.State.CLOSED, origin=desk)
    services.add_note(a, "Intern vurdering", origin=desk)
    return {"a": a.pk, "b": b.pk, "c": c.pk, "service": service.pk, "alfa": agencies["alfa"].pk, "cast": cast}


@access_table
def case_api(world):
    a, b, c = (f"/api/cases/{world[k]}/" for k in "abc")
    everyone_who_sees_cases = SEE_A
    rows = table(
        ("GET", "/api/cases/", api_status(200, everyone_who_sees_cases)),
        ("POST", "/api/cases/", api_status(201, {"admin", "desk", "it_contact", "agency_admin", "requester"})),
        ("GET", a, api_status(200, SEE_A)),
        ("GET", b, api_status(200, SEE_B, seen=SEE_B)),
        ("PATCH", a, api_status(200, {"admin", "desk", "it_contact", "agency_admin"})),
        ("PATCH", b, api_status(200, {"admin", "desk"}, seen=SEE_B)),
        ("PUT", a, api_status(405, SEE_A)),
        ("DELETE", a, api_status(405, SEE_A)),
        ("POST", f"{a}transition/", api_status(200, {"admin", "desk"})),
        ("POST", f"{b}transition/", api_status(200, {"admin", "desk"}, seen=SEE_B)),
        ("POST", f"{a}assign/", api_status(200, {"admin", "desk"})),
        ("POST", f"{a}priority/", api_status(200, {"admin", "desk"})),
        ("POST", f"{a}parent/", api_status(200, {"admin", "desk"})),
        ("POST", f"{a}duplicate/", api_status(200, {"admin", "desk"})),
        (
            "POST",
            f"{c}reopen/",
            api_status(200, {"admin", "desk", "it_contact", "agency_admin", "requester"}, seen=SEE_C),
        ),
        ("POST", f"{c}rate/", api_status(200, {"admin", "requester"}, seen=SEE_C)),
        ("POST", f"{a}rate/", api_status(409, {"admin", "requester"})),  # not closed: 409, nothing changed
        ("GET", f"{a}replies/", api_status(200, SEE_A)),
        ("POST", f"{a}replies/", api_status(201, SEE_A - {"agreement"})),
        ("POST", f"{b}replies/", api_status(201, SEE_B - {"agreement"}, seen=SEE_B)),
        ("GET", f"{a}notes/", api_status(200, {"admin", "agreement", "desk"})),
        ("POST", f"{a}notes/", api_status(201, {"admin", "desk"})),
        ("GET", f"{a}history/", api_status(200, SEE_A)),
        ("GET", f"{a}attachments/", api_status(200, SEE_A)),
    )
    desk_id = world["cast"]["desk"].pk
    data = {
        "/api/cases/": {"service": world["service"], "title": "Ny sak", "agency": world["alfa"]},
        a: {"title": "Endret"},
        b: {"title": "Endret"},
        f"{a}transition/": {"state": "in_progress"},
        f"{b}transition/": {"state": "in_progress"},
        f"{a}assign/": {"assignee": desk_id, "team": "Servicedesk"},
        f"{a}priority/": {"impact": 1, "urgency": 1},
        f"{a}parent/": {"case": world["c"]},
        f"{a}duplicate/": {"case": world["c"]},
        f"{c}reopen/": {"reason": "Virker ikke"},
        f"{c}rate/": {"rating": 5, "comment": "Bra"},
        f"{a}rate/": {"rating": 5},
        f"{a}replies/": {"text": "Et svar"},
        f"{b}replies/": {"text": "Et svar"},
        f"{a}notes/": {"text": "Et notat"},
    }
    return rows, data


@access_table
def requester_side_actions(world):
    """Withdrawing an open case: the requester and the agency's contacts may, besides the service desk."""
    a = f"/api/cases/{world['a']}/"
    rows = table(
        ("POST", f"{a}transition/", api_status(200, {"admin", "desk", "it_contact", "agency_admin", "requester"})),
    )
    return rows, {f"{a}transition/": {"state": "cancelled"}}


@pytest.mark.parametrize("build", TABLES, ids=lambda build: build.__name__)
def test_access_table(clients, world, build):
    rows, data = build(world)
    assert check_access_table(clients, rows, data=data) >= len(rows)


@pytest.mark.slow
@pytest.mark.database_independent
def test_removing_any_rule_makes_a_test_fail(clients, world):
    def run_for_keys(keys):
        for build in TABLES:
            rows, data = build(world)
            check_access_table(clients, {k: v for k, v in rows.items() if k[0] in keys}, data=data)

    assert assert_every_rule_is_tested([Case, Reply, Note, Attachment, CaseChange], run_for_keys) == 49


def test_a_requester_creates_a_case_with_defaults(clients, world, cast):
    response = clients("requester").post(
        "/api/cases/", {"service": world["service"], "title": "Skjermen blinker"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("KOM-") and body["requester"] == cast["requester"].pk
    assert (body["agency"], body["source"], body["priority"], body["state"]) == (world["alfa"], "api", 4, "new")
    assert body["resolution_due"] and body["sla_state"] == "ok"


def test_bad_input_is_a_400_and_an_illegal_move_a_409(clients, world):
    desk = clients("desk")
    before = Case.objects.get(pk=world["a"]).state
    assert desk.post("/api/cases/", {"title": "x"}, content_type="application/json").status_code == 400
    response = desk.post(f"/api/cases/{world['a']}/transition/", {"state": "closed"}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    response = desk.post(f"/api/cases/{world['a']}/transition/", {"state": "resolved"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "resolution_required"
    response = desk.post(
        f"/api/cases/{world['a']}/priority/", {"impact": 7, "urgency": 1}, content_type="application/json"
    )
    assert response.status_code == 400
    assert Case.objects.get(pk=world["a"]).state == before


def test_notes_never_reach_agency_roles_through_the_api(clients, world):
    for key in ("requester", "it_contact", "owner", "agency_admin", "kam"):
        client = clients(key, "token")
        case = client.get(f"/api/cases/{world['a']}/").json()
        history = client.get(f"/api/cases/{world['a']}/history/").json()["results"]
        assert "Intern vurdering" not in repr(case) + repr(history), key
        assert all(change["kind"] != "note" for change in history), key
        assert client.get(f"/api/cases/{world['a']}/notes/").status_code == 403, key
    history = clients("desk").get(f"/api/cases/{world['a']}/history/").json()["results"]
    assert [c["kind"] for c in history].count("note") == 1


def test_attachments_are_checked_on_their_content(clients, world):
    client = clients("requester")
    url = f"/api/cases/{world['a']}/attachments/"
    ok = client.post(url, {"file": SimpleUploadedFile("skjerm.bin", PNG)})
    assert ok.status_code == 201, ok.content
    assert ok.json()["content_type"] == "image/png"
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    refused = client.post(url, {"file": SimpleUploadedFile("faktura.pdf", exe)})
    assert refused.status_code == 400 and refused.json()["code"] == "attachment_type"
    assert [a["name"] for a in client.get(url).json()["results"]] == ["skjerm.bin"]
    assert Reply.objects.filter(case_id=world["a"]).count() == 1  # the refused upload left no reply


def test_the_list_filters_and_sorts_by_due_time(clients, world):
    desk = clients("desk")
    services.change_priority(
        Case.objects.get(pk=world["b"]), impact=1, urgency=1, origin=ChangeOrigin.by_user(world["cast"]["desk"])
    )
    numbers = [c["title"] for c in desk.get("/api/cases/?open=true").json()["results"]]
    assert numbers == ["B", "A"]  # P1 first: due soonest
    assert [c["title"] for c in desk.get(f"/api/cases/?agency={world['alfa']}&state=new").json()["results"]] == ["A"]
    assert [c["title"] for c in desk.get("/api/cases/?priority=1").json()["results"]] == ["B"]
    assert desk.get("/api/cases/?state=nonsense").status_code == 400
    assert desk.get("/api/cases/?agency=5979646246228355710976").status_code == 400  # not a 500 on SQLite
    assert [c["title"] for c in clients("requester").get("/api/cases/").json()["results"]] == ["A", "C"]


def test_create_input_reads_requester_and_service_in_one_query_and_answers_as_the_fields_do(
    clients, world, cast, agencies, monkeypatch, django_assert_num_queries
):
    """The create input reads the requester and the active service in one query; whatever it does not find there,
    each field looks up itself, so every input gets the answer DRF's own per-field lookups give."""
    from kompass.cases.api.serializers import CaseCreateSerializer
    from kompass.core.models import Service

    service, requester = world["service"], cast["requester"].pk
    beta_user = User.objects.get(email="ansatt.beta@test.example").pk
    inactive = Service.objects.create(name="Nedlagt", active=False).pk
    serializer = CaseCreateSerializer(data={"title": "T", "service": service, "requester": requester})
    serializer.context["request"] = type("R", (), {"user": cast["desk"]})()
    with django_assert_num_queries(1):
        assert serializer.is_valid(), serializer.errors
    assert (serializer.validated_data["service"].pk, serializer.validated_data["requester"]) == (
        service,
        cast["requester"],
    )

    inputs = [
        {"service": service, "requester": requester},
        {"service": str(service), "requester": str(requester)},
        {"service": inactive, "requester": requester},
        {"service": 10**6, "requester": requester},
        {"service": service, "requester": 10**6},
        {"service": service, "requester": beta_user},
        {"service": True, "requester": requester},
        {"service": service, "requester": "x"},
        {"service": service, "requester": 2**70},
        {"service": [service], "requester": requester},
        {"service": service},
    ]

    def answers():
        seen = []
        for who in ("desk", "it_contact", "requester"):
            for payload in inputs:
                response = clients(who, "token").post(
                    "/api/cases/", {"title": "Likt svar", **payload}, content_type="application/json"
                )
                body = response.json()
                if response.status_code == 201:  # a new case each time: its own number and times
                    body = {k: body[k] for k in ("requester", "service", "agency", "title", "state")}
                seen.append((who, response.status_code, body))
        return seen

    with_look_up = answers()
    monkeypatch.setattr(CaseCreateSerializer, "_look_up", lambda self, data: {})
    assert with_look_up == answers()
    assert {status for _, status, _ in with_look_up} >= {201, 400}
