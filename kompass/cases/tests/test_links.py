"""The resolved e-mail's one-click links: no login, one button, each resolution's link works once."""

import pytest
from django.test import Client

from kompass.cases import services
from kompass.cases.models import Case
from kompass.cases.services import ChangeOrigin
from kompass.core.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(make_case, cast, sent):
    Organisation.current()
    case = make_case()
    services.transition(
        case, Case.State.RESOLVED, resolution="Byttet toner.", origin=ChangeOrigin.by_user(cast["desk"])
    )
    mail = [c for c in sent if c["event"] == "cases.resolved"][-1]
    return case, mail


def test_the_solved_link_closes_the_case_once(resolved):
    case, mail = resolved
    assert mail["context"]["resolution"] == "Byttet toner."
    url = mail["context"]["links"]["solved"]
    anonymous = Client()
    page = anonymous.get(url)
    assert page.status_code == 200
    case.refresh_from_db()
    assert case.state == Case.State.RESOLVED  # opening the link changes nothing
    assert anonymous.post(url).status_code == 200
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    assert case.changes.last().origin == "email" and case.changes.last().actor == case.requester
    assert anonymous.get(url).status_code == 410
    assert anonymous.post(url).status_code == 410


def test_not_solved_reopens_and_spends_both_links(resolved):
    case, mail = resolved
    assert Client().post(mail["context"]["links"]["not_solved"]).status_code == 200
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS and len(case.sla_history) == 1
    assert Client().post(mail["context"]["links"]["solved"]).status_code == 410


def test_a_new_resolution_spends_the_old_links(resolved, cast, sent):
    case, first = resolved
    desk = ChangeOrigin.by_user(cast["desk"])
    services.transition(case, Case.State.IN_PROGRESS, origin=desk)
    services.transition(case, Case.State.RESOLVED, resolution="Nå virker det.", origin=desk)
    assert Client().post(first["context"]["links"]["solved"]).status_code == 410
    second = [c for c in sent if c["event"] == "cases.resolved"][-1]
    assert Client().post(second["context"]["links"]["solved"]).status_code == 200


def test_a_forged_token_is_refused(resolved):
    case, mail = resolved
    url = mail["context"]["links"]["solved"]
    assert Client().post(url[:-3] + "xx/").status_code == 410
    case.refresh_from_db()
    assert case.state == Case.State.RESOLVED
