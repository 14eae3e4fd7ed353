"""The cases pages: the role × page × method table (by hand), the timeline without notes, refusals as messages."""

import pytest

from kompass.cases import services
from kompass.cases.models import Case, Reply, SavedFilter
from kompass.cases.services import ChangeOrigin
from kompass.cases.tests.test_api import SEE_A, SEE_B, SEE_C, table
from kompass.core.models import Organisation, User
from kompass.testing.cast import CAST
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db


def page_status(ok, allowed, *, seen=SEE_A, hidden=404, everyone_else=403):
    statuses = {}
    for key in CAST:
        if key == "vendor":
            statuses[key] = 302  # integration accounts have no web session
        elif key in allowed:
            statuses[key] = ok
        elif key == "noroles":
            statuses[key] = everyone_else
        elif key in seen:
            statuses[key] = 403
        else:
            statuses[key] = hidden
    return statuses


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
    services.add_note(a, "Intern vurdering av leverandøren", origin=desk)
    private = SavedFilter.objects.create(owner=cast["desk"], name="Mine", query="state=new")
    shared = SavedFilter.objects.create(owner=cast["desk"], name="Delt", query="priority=1", team="Drift")
    return {"a": a.pk, "b": b.pk, "c": c.pk, "service": service.pk, "alfa": agencies["alfa"].pk, "cast": cast,
            "private": private.pk, "shared": shared.pk}  # fmt: skip


def test_page_access_table(clients, world):
    a, b, c = (f"/cases/{world[k]}/" for k in "abc")
    private, shared = (f"/cases/saved-filters/{world[k]}/delete/" for k in ("private", "shared"))
    creators = {"admin", "desk", "it_contact", "agency_admin", "requester"}
    rows = table(
        ("GET", "/cases/", page_status(200, SEE_A)),
        ("GET", "/cases/portal/", page_status(200, SEE_A)),
        ("GET", "/cases/new/", page_status(200, creators, seen=set(CAST))),
        ("POST", "/cases/new/", page_status(302, creators, seen=set(CAST))),
        ("GET", a, page_status(200, SEE_A)),
        ("GET", b, page_status(200, SEE_B, seen=SEE_B)),
        ("POST", f"{a}reply/", page_status(302, SEE_A - {"agreement"})),
        ("POST", f"{b}reply/", page_status(302, SEE_B - {"agreement"}, seen=SEE_B)),
        ("POST", f"{a}note/", page_status(302, {"admin", "desk"})),
        ("POST", f"{a}transition/", page_status(302, {"admin", "desk"})),
        ("POST", f"{a}assign/", page_status(302, {"admin", "desk"})),
        (
            "POST",
            f"{c}reopen/",
            page_status(302, {"admin", "desk", "it_contact", "agency_admin", "requester"}, seen=SEE_C),
        ),
        ("POST", f"{c}rate/", page_status(302, {"admin", "requester"}, seen=SEE_C)),
        # The workspace: exports for everyone who sees cases, bulk changes for those who work them, saved filters
        # for the roles that use the queue, deleted by their owner only (someone else's private one: a 404).
        ("GET", "/cases/export.csv", page_status(200, SEE_A)),
        ("GET", "/cases/export.xlsx", page_status(200, SEE_A)),
        ("POST", "/cases/bulk/", page_status(200, {"admin", "desk"}, seen=set(CAST))),
        ("POST", "/cases/saved-filters/", page_status(302, SEE_A - {"requester"}, seen=set(CAST))),
        ("POST", private, page_status(302, {"desk"}, seen=set(), everyone_else=404)),
        ("POST", shared, page_status(302, {"desk", "admin"}, seen=set(), everyone_else=404)),
    )
    # A 404 for those who see no case at all: the case is looked up among the visible ones first.
    for key in ("noroles",):
        for url in (
            f"{a}reply/",
            f"{a}note/",
            f"{a}transition/",
            f"{a}assign/",
            f"{c}reopen/",
            f"{c}rate/",
            f"{b}reply/",
        ):
            rows[(key, "POST", url)] = 404
    data = {
        "/cases/new/": {
            "service": world["service"],
            "type": "incident",
            "title": "Ny",
            "impact": 3,
            "urgency": 3,
            "agency": world["alfa"],
        },
        f"{a}reply/": {"text": "Svar"},
        f"{b}reply/": {"text": "Svar"},
        f"{a}note/": {"text": "Notat"},
        f"{a}transition/": {"state": "in_progress"},
        f"{a}assign/": {"assignee": world["cast"]["desk"].pk, "team": "SD"},
        f"{c}reopen/": {},
        f"{c}rate/": {"rating": 4, "comment": "Bra"},
        "/cases/bulk/": {"action": "assign", "assignee": world["cast"]["desk"].pk, "team": "SD", "case": [world["a"]]},
        "/cases/saved-filters/": {"name": "Ny", "query": "state=new"},
    }
    assert check_access_table(clients, rows, data=data) >= len(rows)


def test_the_case_page_shows_no_note_to_agency_roles(clients, world):
    url = f"/cases/{world['a']}/"
    for key in ("requester", "it_contact", "owner", "agency_admin", "kam"):
        body = clients(key).get(url).content.decode()
        assert "Intern vurdering" not in body, key
        assert 'name="text"' in body, key  # each of them may reply, so the page did render the conversation
    assert "Intern vurdering" in clients("desk").get(url).content.decode()
    assert "Intern vurdering" in clients("agreement").get(url).content.decode()


def test_an_illegal_move_is_a_message_not_a_500(clients, world):
    response = clients("desk").post(f"/cases/{world['a']}/transition/", {"state": "closed"}, follow=True)
    assert response.status_code == 200
    assert Case.objects.get(pk=world["a"]).state == Case.State.NEW
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_the_portal_lists_my_cases_and_registers_one_with_a_file(clients, world, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = clients("requester")
    body = client.get("/cases/portal/").content.decode()
    assert "A" in body and "B</a>" not in body
    response = client.post(
        "/cases/new/",
        {
            "service": world["service"],
            "type": "question",
            "title": "Hvordan?",
            "impact": 3,
            "urgency": 3,
            "attachments": [SimpleUploadedFile("notat.txt", "Hei på deg".encode())],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(title="Hvordan?")
    assert (case.requester, case.source, case.attachments.get().content_type) == (
        cast["requester"],
        "portal",
        "text/plain",
    )
    refused = client.post(
        "/cases/new/", {"service": world["service"], "type": "question", "title": "", "impact": 3, "urgency": 3}
    )
    assert refused.status_code == 400 and Case.objects.count() == 4


def test_the_queue_sorts_by_due_time_and_filters(clients, world):
    services.change_priority(
        Case.objects.get(pk=world["b"]), impact=1, urgency=1, origin=ChangeOrigin.by_user(world["cast"]["desk"])
    )
    response = clients("desk").get("/cases/?state=new")
    titles = [c.title for c in response.context["object_list"]]
    assert titles == ["B", "A"]
    response = clients("desk").get(f"/cases/?agency={world['alfa']}", HTTP_HX_REQUEST="true")
    assert [c.title for c in response.context["object_list"]] == ["A", "C"]
    assert "<html" not in response.content.decode()  # htmx gets the table only
    assert Reply.objects.count() == 0


def test_the_note_form_marks_a_note_share_with_vendor(clients, world):
    from kompass.cases.models import Note

    client = clients("desk")
    url = f"/cases/{world['a']}/"
    assert 'name="share_with_vendor"' in client.get(url).content.decode()
    client.post(f"{url}note/", {"text": "Del dette", "share_with_vendor": "on"})
    client.post(f"{url}note/", {"text": "Ikke dette"})
    assert Note.objects.get(text="Del dette").share_with_vendor is True
    assert Note.objects.get(text="Ikke dette").share_with_vendor is False
    body = clients("requester").get(url).content.decode()
    assert "Del dette" not in body  # still an internal note
