"""The service desk workspace: keyset pages of the queue, saved filters, bulk changes, the keyboard script."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from kompass.cases import keyset, services, views
from kompass.cases.models import Case, CaseChange, SavedFilter
from kompass.cases.services import ChangeOrigin
from kompass.cases.signals import case_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(cast, service):
    """Seven cases of alfa: five with due times (two of them equal), two without."""
    desk = ChangeOrigin.by_user(cast["desk"])
    now = timezone.now().replace(microsecond=0)
    dues = [now + timedelta(hours=5), now + timedelta(hours=1), None, now + timedelta(hours=3),
            now + timedelta(hours=3), None, now + timedelta(hours=2)]  # fmt: skip
    cases = []
    for n, due in enumerate(dues):
        case = services.create_case(requester=cast["requester"], service=service, title=f"Sak {n}", origin=desk)
        Case.objects.filter(pk=case.pk).update(resolution_due=due)
        case.resolution_due = due
        cases.append(case)
    expected = sorted(cases, key=lambda c: (c.resolution_due is None, c.resolution_due or now, c.pk))
    return [c.title for c in expected]


def test_the_queue_pages_by_keyset_in_due_order_without_gaps_or_repeats(clients, queue, monkeypatch):
    monkeypatch.setattr(views.CaseListView, "paginate_by", 3)
    client = clients("desk")
    seen, url, pages = [], "/cases/?agency=&open=", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += [c.title for c in response.context["object_list"]]
        cursor = response.context["next_cursor"]
        url = f"/cases/?cursor={cursor}" if cursor else None
        pages += 1
    assert seen == queue and pages == 3
    assert response.context["count"] == 7
    assert "First page" in response.content.decode() or "Første side" in response.content.decode()


def test_previous_walks_the_keyset_pages_back_to_the_first(clients, queue, monkeypatch):
    monkeypatch.setattr(views.CaseListView, "paginate_by", 3)
    client = clients("desk")
    pages, url = [], "/cases/?open="
    while url:  # forwards: 3 + 3 + 1 (the last page's rows cross from dated to undated)
        response = client.get(url)
        pages.append([c.title for c in response.context["object_list"]])
        url = f"/cases/?open=&cursor={response.context['next_cursor']}" if response.context["next_cursor"] else None
    back = []
    while True:  # and back by "previous", from the last page, through the undated/dated border
        previous = response.context["previous_cursor"]
        if previous is None:
            break
        assert 'data-testid="queue-previous"' in response.content.decode()
        response = client.get(f"/cases/?open=&before={previous}")
        assert response.status_code == 200
        back.append([c.title for c in response.context["object_list"]])
    assert back == pages[-2::-1]
    assert response.context["is_first_page"] and response.context["next_cursor"]
    rows = list(Case.objects.order_by(*keyset.ORDER))
    before_undated, token = keyset.page_before(Case.objects.all(), keyset.encode(None, rows[6].pk), 2)
    assert [c.pk for c in before_undated] == [rows[4].pk, rows[5].pk] and token is not None


def test_a_cursor_reads_only_after_its_row(cast, queue):
    rows = list(Case.objects.order_by(*keyset.ORDER))
    rest, token = keyset.page(Case.objects.all(), keyset.encode(rows[3].resolution_due, rows[3].pk), 10)
    assert [c.pk for c in rest] == [c.pk for c in rows[4:]] and token is None
    undated, _ = keyset.page(Case.objects.all(), keyset.encode(None, rows[5].pk), 10)
    assert [c.pk for c in undated] == [rows[6].pk]


def test_a_broken_previous_link_sends_back_to_the_first_page(clients, queue):
    response = clients("desk").get("/cases/", {"before": "x.5", "state": "new"})
    assert response.status_code == 302 and "before" not in response["Location"] and "state=new" in response["Location"]


@pytest.mark.parametrize("cursor", ["nonsense", "1.2.3", "x.5", "-.0", "99999999999999999999999.1", "1.-4"])
def test_a_broken_cursor_sends_back_to_the_first_page(clients, queue, cursor):
    response = clients("desk").get("/cases/", {"cursor": cursor, "state": "new"})
    assert response.status_code == 302 and response["Location"] == "/cases/?state=new"


def test_the_count_is_capped(clients, queue, monkeypatch):
    monkeypatch.setattr(views.CaseListView, "count_limit", 5)
    response = clients("desk").get("/cases/")
    assert response.context["count_capped"] and response.context["count"] == 5


# ---------------------------------------------------------------------------------------------
# Saved filters
# ---------------------------------------------------------------------------------------------


def test_a_saved_filter_is_stored_without_its_cursor_and_listed_beside_the_queue(clients, cast, queue):
    client = clients("desk")
    response = client.post("/cases/saved-filters/", {"name": "Nye P4", "query": "state=new&priority=4&cursor=1.2"})
    assert response.status_code == 302 and response["Location"] == "/cases/?state=new&priority=4"
    saved = SavedFilter.objects.get()
    assert (saved.owner, saved.query, saved.team) == (cast["desk"], "state=new&priority=4", "")
    body = client.get("/cases/").content.decode()
    assert 'href="?state=new&amp;priority=4">Nye P4</a>' in body
    client.post("/cases/saved-filters/", {"name": "Nye P4", "query": "state=new"})  # same name: replaced
    assert SavedFilter.objects.get().query == "state=new"


def test_saved_filters_are_private_unless_shared_with_a_team(clients, cast, queue):
    SavedFilter.objects.create(owner=cast["kam"], name="Mine egne", query="state=new")
    SavedFilter.objects.create(owner=cast["kam"], name="Delt", query="priority=1", team="Drift")
    SavedFilter.objects.create(owner=cast["desk"], name="Agentens", query="priority=2")
    names = lambda key: [s.name for s in clients(key).get("/cases/").context["saved_filters"]]  # noqa: E731
    assert names("kam") == ["Mine egne", "Delt"]
    assert names("desk") == ["Agentens", "Delt"]  # the shared one, not kam's private one
    assert names("it_contact") == []


def test_only_the_owner_deletes_a_saved_filter(clients, cast, queue):
    shared = SavedFilter.objects.create(owner=cast["kam"], name="Delt", query="priority=1", team="Drift")
    private = SavedFilter.objects.create(owner=cast["kam"], name="Privat", query="priority=2")
    assert clients("desk").post(f"/cases/saved-filters/{shared.pk}/delete/").status_code == 403
    assert clients("desk").post(f"/cases/saved-filters/{private.pk}/delete/").status_code == 404
    assert SavedFilter.objects.count() == 2
    assert clients("kam").post(f"/cases/saved-filters/{private.pk}/delete/").status_code == 302
    assert list(SavedFilter.objects.values_list("name", flat=True)) == ["Delt"]


def test_a_saved_filter_without_a_name_is_refused(clients, queue):
    response = clients("desk").post("/cases/saved-filters/", {"name": "", "query": "state=new"}, follow=True)
    assert response.status_code == 200 and not SavedFilter.objects.exists()
    assert any(m.level_tag == "error" for m in response.context["messages"])
    response = clients("desk").post("/cases/saved-filters/", {"name": "", "query": "state=new\r\nSet-Cookie: x=1"})
    assert response.status_code == 302 and "\n" not in response["Location"] and not SavedFilter.objects.exists()


# ---------------------------------------------------------------------------------------------
# Bulk changes
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def signals():
    received = []

    def receiver(sender, case, change, origin, **kwargs):
        received.append((case.pk, change.kind))

    case_changed.connect(receiver)
    yield received
    case_changed.disconnect(receiver)


def test_bulk_assign_goes_through_the_services_per_case_and_reports_refusals(clients, cast, queue, signals):
    desk = ChangeOrigin.by_user(cast["desk"])
    open_a, open_b, closed = Case.objects.order_by("pk")[:3]
    services.transition(closed, Case.State.CANCELLED, origin=desk)
    signals.clear()
    response = clients("desk").post(
        "/cases/bulk/",
        {"action": "assign", "assignee": cast["desk"].pk, "team": "Drift",
         "case": [open_a.pk, open_b.pk, closed.pk, 987654]},
    )  # fmt: skip
    assert response.status_code == 200
    assert [c.pk for c in response.context["done"]] == [open_a.pk, open_b.pk]
    refused = {pk: reason for pk, _case, reason in response.context["refused"]}
    assert set(refused) == {closed.pk, 987654}
    assert "open" in refused[closed.pk] or "åpen" in refused[closed.pk]
    assert Case.objects.filter(assignee=cast["desk"], team="Drift").count() == 2
    assert signals == [(open_a.pk, "assigned"), (open_b.pk, "assigned")]
    assert CaseChange.objects.filter(kind="assigned", actor=cast["desk"]).count() == 2


def test_bulk_transition_refuses_illegal_moves_case_by_case(clients, cast, queue):
    desk = ChangeOrigin.by_user(cast["desk"])
    first, second = Case.objects.order_by("pk")[:2]
    services.transition(second, Case.State.RESOLVED, resolution="Løst", origin=desk)
    response = clients("desk").post(
        "/cases/bulk/", {"action": "transition", "state": "waiting_vendor", "case": [first.pk, second.pk]}
    )
    assert response.status_code == 200
    assert Case.objects.get(pk=first.pk).state == "waiting_vendor"
    assert Case.objects.get(pk=second.pk).state == "resolved"
    (pk, _case, reason), = response.context["refused"]  # fmt: skip
    assert pk == second.pk and reason


def test_bulk_when_every_case_is_refused_is_a_409(clients, cast, queue):
    first = Case.objects.order_by("pk").first()
    response = clients("desk").post("/cases/bulk/", {"action": "transition", "state": "closed", "case": [first.pk]})
    assert response.status_code == 409 and Case.objects.get(pk=first.pk).state == "new"


@pytest.mark.parametrize(
    "data",
    [
        {"action": "assign", "assignee": "", "team": "", "case": ["1"]},
        {"action": "transition", "state": "", "case": ["1"]},
        {"action": "explode", "case": ["1"]},
        {"action": "transition", "state": "in_progress"},
        {"action": "transition", "state": "in_progress", "case": ["x"]},
        {"action": "transition", "state": "in_progress", "case": [str(2**70)]},
        {"action": "transition", "state": "in_progress", "case": [str(n) for n in range(1, 503)]},
    ],
)
def test_bad_bulk_input_is_a_400_and_changes_nothing(clients, queue, data):
    before = list(Case.objects.order_by("pk").values_list("state", "assignee_id"))
    response = clients("desk").post("/cases/bulk/", data)
    assert response.status_code == 400
    assert list(Case.objects.order_by("pk").values_list("state", "assignee_id")) == before


def test_bulk_is_for_those_who_work_cases(clients, cast, queue):
    first = Case.objects.order_by("pk").first()
    for key in ("it_contact", "agency_admin", "agreement", "requester"):
        response = clients(key).post("/cases/bulk/", {"action": "transition", "state": "cancelled", "case": [first.pk]})
        assert response.status_code == 403, key
    assert Case.objects.get(pk=first.pk).state == "new"


# ---------------------------------------------------------------------------------------------
# Keyboard shortcuts: a committed script, no inline code
# ---------------------------------------------------------------------------------------------


def test_the_queue_loads_its_shortcuts_from_a_static_file_and_has_no_inline_script(clients, queue):
    body = clients("desk").get("/cases/").content.decode()
    assert 'src="/static/cases/queue.js"' in body
    assert "<script>" not in body and " onclick=" not in body and " onkeydown=" not in body
    assert 'id="shortcuts"' in body and 'form="bulk"' in body and 'id="id_q"' in body
    script = (Path(views.__file__).parent / "static" / "cases" / "queue.js").read_text()
    for key in ('"j"', '"k"', '"x"', '"a"', '"/"', '"?"'):
        assert f"case {key}:" in script, key


def test_the_queue_lists_its_select_choices_without_streaming_cursors(clients, cast, queue, monkeypatch):
    """The filter and bulk forms' short lists (agencies, services, systems, agents) are fetched plainly: Django's
    default ``.iterator()`` is a server-side cursor on PostgreSQL, three round trips per select."""
    from django.db.models.query import QuerySet

    def streamed(self, *args, **kwargs):
        raise AssertionError(f"streamed choices of {self.model.__name__}")

    monkeypatch.setattr(QuerySet, "iterator", streamed)
    page = clients("desk").get("/cases/").content.decode()
    assert 'id="id_agency"' in page and 'id="bulk_assignee"' in page
    assert f'<option value="{cast["desk"].pk}">{cast["desk"]}</option>' in page


def test_a_queue_row_is_written_escaped_with_its_checkbox_only_for_those_who_work_cases(clients, cast, service):
    case = services.create_case(
        requester=cast["requester"], service=service, title="<b>Skriver</b> & co", origin=ChangeOrigin.by_system()
    )
    desk = clients("desk").get("/cases/").content.decode()
    assert "<td>&lt;b&gt;Skriver&lt;/b&gt; &amp; co</td>" in desk and "<b>Skriver</b>" not in desk
    assert f'id="select-{case.pk}" aria-label="Velg {case.number}"' in desk
    assert f'<a class="pkt-link" href="/cases/{case.pk}/">{case.number}</a>' in desk
    rows = views.queue_rows([case])
    assert 'type="checkbox"' not in rows[0].html and rows[0].html.startswith(f'<tr data-case="{case.pk}"><td><a ')


def test_the_queue_page_reads_only_what_it_shows(clients, queue):
    """The page's case query selects the shown columns and joins only agency and assignee (not the description,
    the SLA JSON columns, the service or the requester)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = clients("desk")
    client.get("/cases/")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/cases/").status_code == 200
    [page] = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "cases_case"."id"')]
    assert '"cases_case"."title"' in page and '"core_agency"."name"' in page
    assert '"cases_case"."description"' not in page and '"cases_case"."sla_history"' not in page
    assert '"core_service"' not in page and "requester" not in page.split("FROM")[0]
