"""Anonymity: no tie from an answer to its person, and the small-group rule on every breakdown."""

import datetime as dt

import pytest

from kompass.core.roles import Role
from kompass.surveys import services
from kompass.surveys.models import Invitation, Response, ResultCell
from kompass.surveys.tests.conftest import answer_all

pytestmark = pytest.mark.django_db
MARCH = dt.date(2026, 3, 1)


def test_an_anonymous_response_names_no_one_and_closing_forgets_the_recipients(
    client, open_campaign, issued, cast, template
):
    answer_all(client, issued[cast["it_contact"].email], template)
    response = Response.objects.get()
    assert response.respondent is None and (response.agency, response.role) == (
        cast["it_contact"].home_agency or response.agency,
        "agency_it_contact",
    )
    assert not {f.name for f in Response._meta.fields} & {"invitation", "token_hash", "recipient"}
    assert Invitation.objects.get(recipient=cast["it_contact"]).draft == {}  # progress gone with the submission
    services.close_campaign(open_campaign)
    assert not Invitation.objects.filter(recipient__isnull=False).exists()


def test_a_named_template_keeps_the_respondent(client, cast, today, issued):
    named = services.default_template(name="Navngitt", anonymous=False)
    campaign = services.create_campaign(named, period=dt.date(2026, 2, 1))
    services.open_campaign(campaign)
    answer_all(client, issued[cast["owner"].email], named)
    assert Response.objects.get().respondent == cast["owner"]


def test_suppress_hides_small_groups_and_their_complement():
    assert services.suppress({"a": 10, "b": 7}, 5) == set()
    assert services.suppress({"a": 10, "b": 3}, 5) == {"a", "b"}  # total − a would reveal b
    assert services.suppress({"a": 10, "b": 9, "c": 3}, 5) == {"b", "c"}  # hide the next smallest too
    assert services.suppress({"a": 10, "b": 3, "c": 2}, 5) == set() | {"b", "c"}  # together they are 5
    assert services.suppress({"a": 0, "b": 8}, 5) == set()


def _cell(agency, role, values, question, campaign, period=MARCH):
    return ResultCell.objects.create(
        agency=agency,
        role=role,
        question=question,
        campaign=campaign,
        period=period,
        dimension="stability",
        n=len(values),
        total=sum(values),
        scale_min=1,
        scale_max=5,
        distribution={str(v): values.count(v) for v in set(values)},
    )


@pytest.fixture
def world(agencies, template):
    campaign = services.create_campaign(template, period=MARCH, opens_on=dt.date(2026, 4, 1))
    question = template.questions.get(dimension="stability")
    return campaign, question


def test_the_heat_map_hides_a_small_agency_and_the_average_cannot_reveal_it(world, agencies):
    campaign, question = world
    _cell(agencies["alfa"], Role.AGENCY_IT_CONTACT, [4] * 8, question, campaign)
    _cell(agencies["beta"], Role.AGENCY_IT_CONTACT, [2] * 3, question, campaign)  # too small
    figures = services.grid("stability", MARCH, MARCH)
    alfa, beta = figures.cells[agencies["alfa"].pk, MARCH], figures.cells[agencies["beta"].pk, MARCH]
    assert beta.hidden and beta.mean is None and alfa.mean == 4.0
    # The average is of the groups shown: average × n − alfa gives nothing of beta back.
    assert (figures.average[MARCH].n, figures.average[MARCH].mean) == (8, 4.0)


def test_the_difference_between_all_roles_and_one_role_reveals_nothing(world, agencies, client, cast):
    """Agency alfa: 6 IT contacts and 2 system owners. All roles (8) is shown; filtered by IT contacts,
    6 would be shown too, and 8 − 6 would reveal the two system owners: so the role view hides it."""
    campaign, question = world
    _cell(agencies["alfa"], Role.AGENCY_IT_CONTACT, [5] * 6, question, campaign)
    _cell(agencies["alfa"], Role.SYSTEM_OWNER, [1] * 2, question, campaign)
    _cell(agencies["gamma"], Role.AGENCY_IT_CONTACT, [3] * 6, question, campaign)
    _cell(agencies["gamma"], Role.SYSTEM_OWNER, [3] * 5, question, campaign)
    everyone = services.grid("stability", MARCH, MARCH)
    assert everyone.cells[agencies["alfa"].pk, MARCH].mean == 4.0
    by_role = services.grid("stability", MARCH, MARCH, role=Role.AGENCY_IT_CONTACT)
    assert by_role.cells[agencies["alfa"].pk, MARCH].hidden
    assert by_role.cells[agencies["gamma"].pk, MARCH].mean == 3.0  # 11 − 6 = 5: fine
    # Nor can the role view's average give alfa's IT contacts back (it averages the groups shown).
    assert by_role.average[MARCH].n == 6
    # The same rule in the API and the export (every door reads services.grid).
    api = clients_get(client, cast["agreement"], "/api/survey-results/?dimension=stability&start=2026-03&end=2026-03")
    assert {(r["agency"], r["mean"]) for r in api} == {(agencies["alfa"].pk, 4.0), (agencies["gamma"].pk, 3.0)}
    bad = client.get("/api/survey-results/?start=zz")
    assert bad.status_code == 400 and isinstance(bad.json()["detail"], str)  # as the schema's 400 says
    page = client.get("/surveys/?dimension=stability&role=agency_it_contact&end=2026-03").content.decode()
    assert "5.0" not in page and "5,0" not in page


def test_comments_and_distributions_follow_the_rule(world, agencies):
    campaign, question = world
    _cell(agencies["beta"], Role.AGENCY_IT_CONTACT, [1, 2], question, campaign)
    assert services.distribution(agencies["beta"].pk, MARCH, "stability").distribution == {}
    assert services.comments(agencies["beta"].pk, MARCH) == []


def clients_get(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()
