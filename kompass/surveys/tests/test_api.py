"""The surveys API beyond reading: templates (a used one revised becomes a new version), campaigns run by API,
meeting invitations and attendance, and results per role under the small-group rule."""

import datetime as dt

import pytest
from django.apps import apps

from kompass.core.roles import Role
from kompass.surveys import services
from kompass.surveys.models import Campaign, Meeting, MeetingParticipant, ResultCell, SurveyTemplate

pytestmark = pytest.mark.django_db
Delivery = apps.get_model("notifications", "Delivery")
QUESTIONS = [
    {"kind": "rating", "text": "Hvor stabil var driften?", "dimension": "stability", "expected_level": "4.00"},
    {"kind": "choice", "text": "Hvor ofte?", "choices": ["Daglig", "Ukentlig"]},
]


def test_templates_and_campaigns_by_api(clients, cast, today, issued):
    api = clients("agreement", "token")
    made = api.post(
        "/api/survey-templates/", {"name": "API-mal", "questions": QUESTIONS}, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    template = SurveyTemplate.objects.get(name="API-mal")
    assert [q["kind"] for q in made.json()["questions"]] == ["rating", "choice"]
    # In place while unused (200), then used: a revision is a new version (201) and v1 keeps its questions.
    revise = f"/api/survey-templates/{template.pk}/revise/"
    body = {"min_group_size": 3, "questions": QUESTIONS[:1]}
    assert api.post(revise, body, content_type="application/json").status_code == 200
    created = api.post("/api/survey-campaigns/", {"template": template.pk, "period": "2026-02-10"})
    assert created.status_code == 201 and created.json()["period"] == "2026-02-01"
    pk = created.json()["id"]
    opened = api.post(f"/api/survey-campaigns/{pk}/open/")
    assert opened.status_code == 200 and opened.json()["status"] == "open" and opened.json()["invited"] == 2
    again = api.post(f"/api/survey-campaigns/{pk}/open/")
    assert again.status_code == 400 and isinstance(again.json()["detail"], str)  # as the schema documents
    v2 = api.post(
        revise, {"questions": [{"kind": "text", "text": "Hva bør bli bedre?"}]}, content_type="application/json"
    )
    assert v2.status_code == 201 and v2.json()["version"] == 2 and v2.json()["previous"] == template.pk
    assert list(template.questions.values_list("text", flat=True)) == ["Hvor stabil var driften?"]
    assert api.post(f"/api/survey-campaigns/{pk}/close/").json()["status"] == "closed"
    assert api.post(f"/api/survey-campaigns/{pk}/close/").status_code == 400
    # Bad input: 400, nothing written.
    before = (SurveyTemplate.objects.count(), Campaign.objects.count())
    for url, data in (
        ("/api/survey-templates/", {"name": "API-mal", "questions": QUESTIONS}),  # taken
        ("/api/survey-templates/", {"name": "X", "questions": []}),
        ("/api/survey-templates/", {"name": "X", "scale_min": 5, "scale_max": 2, "questions": QUESTIONS}),
        ("/api/survey-templates/", {"name": "X", "questions": [{"kind": "choice", "text": "?", "choices": ["a"]}]}),
        ("/api/survey-campaigns/", {"template": template.pk, "period": "2026-03-01", "opens_on": "2026-03-10",
                                    "closes_on": "2026-03-01"}),
    ):  # fmt: skip
        assert api.post(url, data, content_type="application/json").status_code == 400, (url, data)
    assert (SurveyTemplate.objects.count(), Campaign.objects.count()) == before


def test_meeting_invitations_and_attendance_by_api(clients, agencies, cast):
    api = clients("kam", "token")
    made = api.post(
        "/api/survey-meetings/",
        {"kind": "event", "title": "Frokost", "starts_at": "2026-06-10T08:00:00Z", "agencies": [agencies["alfa"].pk]},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    one_to_one = {"kind": "one_to_one", "title": "X", "starts_at": "2026-06-10T08:00:00Z"}
    for agencies_given in ([], [agencies["alfa"].pk, agencies["gamma"].pk]):
        bad = api.post(
            "/api/survey-meetings/", {**one_to_one, "agencies": agencies_given}, content_type="application/json"
        )
        assert bad.status_code == 400
    assert Meeting.objects.count() == 1
    invited = api.post(f"/api/survey-meetings/{pk}/invite/", {"all_contacts": True}, content_type="application/json")
    assert invited.status_code == 200 and invited.json() == {"invited": 2}  # alfa's IT contact and system owner
    assert Delivery.objects.filter(event="surveys.meeting_invitation", channel="email").count() == 2
    outsider = api.post(
        f"/api/survey-meetings/{pk}/invite/", {"users": [cast["desk"].pk]}, content_type="application/json"
    )
    assert outsider.status_code == 400
    url = f"/api/survey-meetings/{pk}/attendance/"
    done = api.post(url, {"user": cast["owner"].pk, "attendance": "declined"}, content_type="application/json")
    assert done.status_code == 200
    assert {"user": cast["owner"].pk, "attendance": "declined"} in done.json()["participants"]
    assert api.post(url, {"user": cast["desk"].pk, "attendance": "attended"}).status_code == 400  # not invited
    assert MeetingParticipant.objects.filter(attendance="declined").count() == 1


def test_results_by_role_hide_what_the_difference_would_reveal(clients, agencies, template):
    march = dt.date(2026, 3, 1)
    campaign = services.create_campaign(template, period=march, opens_on=dt.date(2026, 4, 1))
    question = template.questions.get(dimension="stability")
    for role, n in ((Role.AGENCY_IT_CONTACT, 6), (Role.SYSTEM_OWNER, 2)):
        ResultCell.objects.create(
            agency=agencies["alfa"], role=role, question=question, campaign=campaign, period=march,
            dimension="stability", n=n, total=4 * n, scale_min=1, scale_max=5,
        )  # fmt: skip
    api = clients("agreement", "token")
    url = "/api/survey-results/?dimension=stability&start=2026-03&end=2026-03"
    assert [(r["mean"], r["n"]) for r in api.get(url).json()] == [(4.0, 8)]
    by_role = api.get(url + "&role=agency_it_contact").json()
    assert [(r["mean"], r["n"], r["hidden"]) for r in by_role] == [(None, None, True)]  # 8 − 6 would give 2
    assert api.get(url + "&role=nobody").status_code == 400
