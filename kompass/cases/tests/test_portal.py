"""The portal's side of a resolution: confirm or reject it on the case page, then rate the handling (1–5 and a
comment) once the case is closed. Bad input changes nothing."""

import pytest

from kompass.cases import services
from kompass.cases.models import Case
from kompass.cases.services import ChangeOrigin
from kompass.core.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(make_case, cast):
    Organisation.current()
    case = make_case()
    services.transition(
        case, Case.State.RESOLVED, resolution="Byttet toner.", origin=ChangeOrigin.by_user(cast["desk"])
    )
    return case


def messages_of(response):
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_the_requester_is_asked_whether_it_is_solved_in_their_words(clients, resolved):
    body = clients("requester").get(resolved.get_absolute_url()).content.decode()
    assert 'data-testid="confirm-resolution"' in body and 'data-testid="reject-resolution"' in body
    assert 'name="resolution"' not in body  # no agent's form for the requester
    desk = clients("desk").get(resolved.get_absolute_url()).content.decode()
    assert 'data-testid="confirm-resolution"' not in desk and 'name="resolution"' in desk


def test_confirming_closes_and_then_the_requester_rates_once(clients, resolved, cast):
    client = clients("requester")
    url = resolved.get_absolute_url()
    response = client.post(f"{url}transition/", {"state": "closed"}, follow=True)
    assert response.status_code == 200
    resolved.refresh_from_db()
    assert resolved.state == Case.State.CLOSED
    change = resolved.changes.filter(kind="state").last()
    assert (change.origin, change.actor, change.detail["to"]) == ("user", cast["requester"], "closed")
    assert 'name="rating"' in response.content.decode()  # the rating form is offered now

    refused = client.post(f"{url}rate/", {"rating": 6, "comment": "For bra"}, follow=True)
    assert any(level == "error" for level, _ in messages_of(refused))
    resolved.refresh_from_db()
    assert resolved.rating is None

    client.post(f"{url}rate/", {"rating": 4, "comment": "Rask og hyggelig hjelp."})
    resolved.refresh_from_db()
    assert (resolved.rating, resolved.rating_comment) == (4, "Rask og hyggelig hjelp.") and resolved.rated_at
    again = client.post(f"{url}rate/", {"rating": 1, "comment": "Endret mening"}, follow=True)
    assert any(level == "error" for level, _ in messages_of(again))
    resolved.refresh_from_db()
    assert (resolved.rating, resolved.rating_comment) == (4, "Rask og hyggelig hjelp.")
    page = client.get(url).content.decode()
    assert "4/5" in page and 'name="rating"' not in page


def test_rejecting_reopens_with_a_new_resolution_clock(clients, resolved):
    clients("requester").post(f"{resolved.get_absolute_url()}transition/", {"state": "in_progress"})
    resolved.refresh_from_db()
    assert resolved.state == Case.State.IN_PROGRESS and resolved.resolved_at is None
    assert len(resolved.sla_history) == 1


def test_those_who_may_not_answer_cannot(clients, resolved):
    for key in ("kam", "owner"):  # they see the case (kam) or not (owner: no system), but may not answer for it
        response = clients(key).post(f"{resolved.get_absolute_url()}transition/", {"state": "closed"})
        assert response.status_code in (403, 404), key
    resolved.refresh_from_db()
    assert resolved.state == Case.State.RESOLVED


def test_an_open_case_cannot_be_rated(clients, make_case):
    Organisation.current()
    case = make_case()
    response = clients("requester").post(f"{case.get_absolute_url()}rate/", {"rating": 5}, follow=True)
    assert any(level == "error" for level, _ in messages_of(response))
    case.refresh_from_db()
    assert case.rating is None
