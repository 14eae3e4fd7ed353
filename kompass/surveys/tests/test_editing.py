"""Template editing (a frozen template becomes a new version), follow-up rule pages, the answer page's receipt
and the side-by-side figures on hand-made data."""

import datetime as dt
from decimal import Decimal

import pytest

from kompass.core.roles import Role
from kompass.surveys import services
from kompass.surveys.models import Answer, FollowUpRule, Question, ResultCell, SurveyTemplate
from kompass.surveys.tests.conftest import answer_all

pytestmark = pytest.mark.django_db


def _form(template, **overrides):
    """The edit page's POST data for ``template`` with its questions, the first one's text changed."""
    data = {
        "name": template.name,
        "anonymous": "on",
        "min_group_size": "5",
        "scale_min": "1",
        "scale_max": "5",
        "dont_know": "on",
        "roles": ["agency_it_contact", "system_owner"],
        "days_open": "14",
        "remind_after_days": "7",
        "questions-TOTAL_FORMS": str(template.questions.count()),
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "30",
    }
    for i, q in enumerate(template.questions.all()):
        data.update(
            {
                f"questions-{i}-kind": q.kind,
                f"questions-{i}-text": q.text,
                f"questions-{i}-dimension": q.dimension,
                f"questions-{i}-expected_level": str(q.expected_level or ""),
            }
        )
        if q.allow_comment:
            data[f"questions-{i}-allow_comment"] = "on"
    data["questions-0-text"] = "Hvor stabil var driften?"
    data.update(overrides)
    return data


def test_editing_a_used_template_makes_a_new_version_and_the_answers_keep_the_question_as_asked(
    clients, open_campaign, issued, cast, template
):
    client = clients("agreement")
    first = template.questions.get(position=1)
    asked = first.text
    answer_all(client, issued[cast["it_contact"].email], template)
    response = client.post(f"/surveys/templates/{template.pk}/edit/", _form(template))
    assert response.status_code == 302
    newest = SurveyTemplate.objects.get(name=template.name, version=2)
    assert response["Location"] == newest.get_absolute_url()
    assert (newest.previous, newest.frozen) == (template, False)
    assert newest.questions.get(position=1).text == "Hvor stabil var driften?"
    assert newest.questions.get(position=1).dimension == "stability"  # the key that ties versions together
    template.refresh_from_db()
    assert template.questions.get(position=1).text == asked  # the old version is untouched
    assert Answer.objects.filter(question__text=asked).count() == 1  # and the answer still names it
    # A draft version is edited in place (nobody has answered it): no third version.
    again = client.post(f"/surveys/templates/{newest.pk}/edit/", _form(newest, **{"questions-0-text": "Tredje"}))
    assert again.status_code == 302 and SurveyTemplate.objects.filter(name=template.name).count() == 2
    assert newest.questions.get(position=1).text == "Tredje"
    # While a newer draft exists, the old frozen version cannot fork a second one.
    with pytest.raises(services.SurveyError):
        services.revise_template(template, {}, [{"kind": "text", "text": "X"}])


def test_a_new_template_and_bad_input(clients):
    client = clients("agreement")
    blank = {
        "name": "Kort",
        "min_group_size": "5",
        "scale_min": "1",
        "scale_max": "7",
        "roles": ["system_owner"],
        "days_open": "10",
        "remind_after_days": "5",
        "questions-TOTAL_FORMS": "2",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "30",
        "questions-0-kind": "rating",
        "questions-0-text": "Hvor fornøyd er du?",
        "questions-0-dimension": "stability",
        "questions-1-kind": "choice",
        "questions-1-text": "Hvor ofte?",
        "questions-1-choices": "Daglig\nUkentlig",
    }
    assert client.post("/surveys/templates/new/", blank).status_code == 302
    made = SurveyTemplate.objects.get(name="Kort")
    assert (made.version, made.scale_max, made.anonymous, made.roles) == (1, 7, False, ["system_owner"])
    assert list(made.questions.values_list("kind", "choices")) == [("rating", []), ("choice", ["Daglig", "Ukentlig"])]
    # A reversed scale, a choice question without choices, a taken name: 400 and nothing written.
    for bad in (
        {"name": "Ny", "scale_min": "5", "scale_max": "3"},
        {"name": "Ny", "questions-1-choices": "Bare én"},
        {"name": "Kort"},
    ):
        before = (SurveyTemplate.objects.count(), Question.objects.count())
        assert client.post("/surveys/templates/new/", {**blank, **bad}).status_code == 400
        assert (SurveyTemplate.objects.count(), Question.objects.count()) == before


def test_follow_up_rules_are_made_changed_and_deleted_on_their_pages(clients):
    client = clients("agreement")
    data = {
        "name": "Lav løsningstid",
        "dimension": "resolution_time",
        "kind": "below",
        "value": "2.5",
        "due_days": "21",
    }
    assert client.post("/surveys/rules/new/", {**data, "active": "on"}).status_code == 302
    rule = FollowUpRule.objects.get()
    assert (rule.value, rule.active, rule.due_days) == (Decimal("2.50"), True, 21)
    assert client.post(f"/surveys/rules/{rule.pk}/edit/", {**data, "value": "3"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.value, rule.active) == (Decimal("3.00"), False)
    assert client.post("/surveys/rules/new/", {**data, "dimension": "nope"}).status_code == 400
    assert client.post("/surveys/rules/new/", {**data, "value": "0"}).status_code == 400
    assert "Lav løsningstid" in client.get("/surveys/rules/").content.decode()
    assert client.post(f"/surveys/rules/{rule.pk}/delete/").status_code == 302
    assert not FollowUpRule.objects.exists()


def test_the_recipient_sees_their_progress_and_what_they_answered(client, open_campaign, issued, cast, template):
    token = issued[cast["it_contact"].email]
    stability = template.questions.get(dimension="stability")
    saved = client.post(
        services.answer_url(token), {f"q{stability.pk}": "2", f"q{stability.pk}_comment": "Ustabilt", "save": "1"}
    )
    page = saved.content.decode()
    assert saved.status_code == 200 and "1 av 4" in page and "2 – Dårlig" in page and "Ustabilt" in page
    again = client.get(services.answer_url(token)).content.decode()  # coming back: the draft, shown
    assert "1 av 4" in again and "Ustabilt" in again
    done = answer_all(client, token, template, value="4")
    assert done.status_code == 200 and done.content.decode().count("4 – God") == 3
    # Afterwards the link only says it was used: the stored response has no tie back to the person.
    used = client.get(services.answer_url(token))
    assert used.status_code == 410 and "God" not in used.content.decode()


def test_side_by_side_figures_and_the_scatter_on_hand_made_data(clients, agencies, template, monkeypatch):
    from kompass.cases import services as cases

    months = [dt.date(2026, m, 1) for m in (1, 2, 3)]
    campaigns = [services.create_campaign(template, period=m) for m in months]
    question = template.questions.get(dimension="stability")
    scores = {("alfa", 0): 2, ("alfa", 1): 3, ("alfa", 2): 4, ("gamma", 0): 5}
    for (key, i), value in scores.items():
        ResultCell.objects.create(
            agency=agencies[key], role=Role.AGENCY_IT_CONTACT, question=question, campaign=campaigns[i],
            period=months[i], dimension="stability", n=5, total=5 * value, scale_min=1, scale_max=5,
        )  # fmt: skip
    ResultCell.objects.create(  # beta: too small, never a point
        agency=agencies["beta"], role=Role.AGENCY_IT_CONTACT, question=question, campaign=campaigns[0],
        period=months[0], dimension="stability", n=2, total=2, scale_min=1, scale_max=5,
    )  # fmt: skip
    sla = {("alfa", 0): 0.5, ("alfa", 1): 0.7, ("alfa", 2): 0.9, ("gamma", 0): 0.95, ("beta", 0): 0.1}

    def figures(agency_ids, start, end):
        return {
            (agencies[k].pk, months[i]): {"sla_attainment": v, "incidents": 3, "median_resolution_hours": 4.5}
            for (k, i), v in sla.items()
            if agencies[k].pk in agency_ids
        }

    monkeypatch.setattr(cases, "monthly_agency_figures", figures)
    data = services.side_by_side(months[0], months[2])
    expected = services.pearson([(2, 0.5), (3, 0.7), (4, 0.9), (5, 0.95)])
    assert expected is not None and expected > 0.9
    assert data["correlation"]["stability"]["sla_attainment"] == expected
    response = clients("agreement").get("/surveys/side-by-side/?end=2026-03")
    chart = response.context["chart"]
    assert sorted((p["x"], p["y"]) for p in chart["points"]) == [(50.0, 2.0), (70.0, 3.0), (90.0, 4.0), (95.0, 5.0)]
    assert chart["r"] == expected
    page = response.content.decode()
    assert f"r = {expected:.2f}".replace(".", ",") in page, response.context["scatter_r"]
    # beta's row has its service figures but no scores (its group is too small)
    assert '<th scope="row">Bydel Beta</th><td>01.2026</td><td>–</td><td>–</td><td>–</td><td>10 %</td>' in page
    # The key account manager (alfa and gamma) does not see beta's row at all.
    assert "Bydel Beta" not in clients("kam").get("/surveys/side-by-side/?end=2026-03").content.decode()
