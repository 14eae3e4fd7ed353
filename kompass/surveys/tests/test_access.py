"""The surveys app's access table: every cast member × every page and endpoint × every method (hand-written).

Refused writes must change nothing (``check_access_table`` compares the whole database).
"""

import datetime as dt

import pytest

from kompass.core.models import Organisation
from kompass.core.roles import Role
from kompass.surveys import services
from kompass.surveys.models import (
    Answer,
    CommentTag,
    FollowUpRule,
    Meeting,
    MeetingParticipant,
    Response,
    ResultCell,
)
from kompass.testing.cast import CAST
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db

RUN = {"admin", "agreement"}  # run the surveys
RESULTS = RUN | {"kam"}  # see results, campaigns, meetings
ACTIONS = RESULTS | {"agency_admin"}  # see actions (an agency administrator may own one)


def _status(key, allowed, ok=200, refused=403):
    return ok if key in allowed else refused


@pytest.fixture
def objects(agencies, cast, template, today):
    Organisation.current()  # created on the first page otherwise, which a refused write must not do
    campaign = services.create_campaign(template, period=dt.date(2026, 2, 1))
    question = template.questions.get(dimension="stability")
    for key in ("alfa", "beta"):
        ResultCell.objects.create(
            agency=agencies[key],
            role=Role.AGENCY_IT_CONTACT,
            question=question,
            campaign=campaign,
            period=dt.date(2026, 2, 1),
            dimension="stability",
            n=6,
            total=24,
            scale_min=1,
            scale_max=5,
        )
    alfa_action = services.open_action(agency_id=agencies["alfa"].pk, owner=cast["kam"], title="A", due_on=today)
    beta_action = services.open_action(agency_id=agencies["beta"].pk, owner=cast["agreement"], title="B", due_on=today)
    meeting = Meeting.objects.create(title="Møte", starts_at=dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC))
    meeting.agencies.set([agencies["alfa"]])
    participant = MeetingParticipant.objects.create(meeting=meeting, user=cast["it_contact"])
    for _i in range(6):  # alfa's February is shown, so its comment may be tagged
        response = Response.objects.create(
            campaign=campaign, agency=agencies["alfa"], role=Role.AGENCY_IT_CONTACT, submitted_on=today
        )
        Answer.objects.create(response=response, question=question, value=4, comment="Treg leverandør")
    return {
        "campaign": campaign,
        "alfa_action": alfa_action,
        "beta_action": beta_action,
        "meeting": meeting,
        "participant": participant,
        "rule": FollowUpRule.objects.create(name="Lav", dimension="stability", kind="below", value=3),
        "tag": CommentTag.objects.create(name="Leverandør"),
    }


def test_pages(clients, agencies, objects):
    alfa, beta = agencies["alfa"].pk, agencies["beta"].pk
    c, a, b, m = objects["campaign"].pk, objects["alfa_action"].pk, objects["beta_action"].pk, objects["meeting"].pk
    table = {}
    for key in CAST:
        for url in (
            "/surveys/",
            "/surveys/side-by-side/",
            "/surveys/export.xlsx",
            "/surveys/campaigns/",
            f"/surveys/campaigns/{c}/",
            f"/surveys/agencies/{alfa}/",
            "/surveys/meetings/",
            f"/surveys/meetings/{m}/",
            "/surveys/meetings/new/",
        ):
            table[key, "GET", url] = _status(key, RESULTS)
        table[key, "GET", f"/surveys/agencies/{beta}/"] = {"kam": 404}.get(key, _status(key, RESULTS))
        table[key, "GET", f"/surveys/agencies/{alfa}/cockpit/"] = _status(key, ACTIONS)
        table[key, "GET", f"/surveys/agencies/{beta}/cockpit/"] = (
            404 if key in {"kam", "agency_admin"} else _status(key, ACTIONS)
        )
        table[key, "GET", "/surveys/actions/"] = _status(key, ACTIONS)
        table[key, "GET", f"/surveys/actions/{a}/"] = _status(key, ACTIONS)
        table[key, "GET", f"/surveys/actions/{b}/"] = 404 if key in {"kam", "agency_admin"} else _status(key, ACTIONS)
        table[key, "GET", "/surveys/campaigns/new/"] = _status(key, RUN)
        table[key, "POST", "/surveys/campaigns/new/"] = _status(key, RUN, ok=302)
        table[key, "POST", f"/surveys/campaigns/{c}/open/"] = _status(key, RUN, ok=302)
        table[key, "POST", f"/surveys/actions/{a}/close/"] = _status(key, RESULTS, ok=302)
        table[key, "POST", f"/surveys/actions/{b}/close/"] = (
            404 if key in {"kam", "agency_admin"} else _status(key, RESULTS, ok=302)
        )
        table[key, "POST", "/surveys/meetings/new/"] = _status(key, RESULTS, ok=302)
        table[key, "POST", f"/surveys/meetings/{m}/edit/"] = _status(key, RESULTS, ok=302)
        t, r = objects["campaign"].template_id, objects["rule"].pk
        for url in ("/surveys/templates/", f"/surveys/templates/{t}/", "/surveys/rules/", "/surveys/tags/"):
            table[key, "GET", url] = _status(key, RESULTS)
        for url in (
            "/surveys/templates/new/",
            f"/surveys/templates/{t}/edit/",
            "/surveys/rules/new/",
            f"/surveys/rules/{r}/edit/",
            "/surveys/tags/new/",
        ):
            table[key, "GET", url] = _status(key, RUN)
            table[key, "POST", url] = _status(key, RUN, ok=302)
        table[key, "POST", f"/surveys/rules/{r}/delete/"] = _status(key, RUN, ok=302)
        table[key, "POST", f"/surveys/agencies/{alfa}/comments/tag/"] = _status(key, RESULTS, ok=302)
        table[key, "POST", f"/surveys/agencies/{beta}/comments/tag/"] = {"kam": 404}.get(
            key,
            _status(key, RESULTS, ok=400),  # beta has no such comment
        )
        table[key, "POST", f"/surveys/meetings/{m}/invite/"] = _status(key, RESULTS, ok=302)
        table[key, "POST", f"/surveys/meetings/{m}/attendance/"] = _status(key, RESULTS, ok=302)
        # The answer page needs no login, and a wrong link is the same page for everyone.
        table[key, "GET", "/surveys/a/" + "x" * 43 + "/"] = 404
    for row in [row for row in table if row[0] == "vendor" and "/surveys/a/" not in row[2]]:
        table[row] = 302  # an integration account's session is signed out (API only)
    meeting_form = {"kind": "one_to_one", "title": "Oppfølging", "starts_at": "2026-03-20T10:00", "agencies": [alfa]}
    rule_form = {"name": "Fall", "dimension": "follow_up", "kind": "drop", "value": "0.5", "due_days": "14"}
    tagging = {"period": "2026-02", "digest": services.comment_digest("Treg leverandør"), "tags": [objects["tag"].pk]}

    def template_form(name):
        return {
            "name": name,
            "min_group_size": "5",
            "scale_min": "1",
            "scale_max": "5",
            "roles": ["system_owner"],
            "days_open": "10",
            "remind_after_days": "5",
            "questions-TOTAL_FORMS": "1",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "30",
            "questions-0-kind": "rating",
            "questions-0-text": "Hvor fornøyd er du?",
            "questions-0-dimension": "stability",
        }

    check_access_table(
        clients,
        table,
        data={
            "/surveys/campaigns/new/": {
                "template": objects["campaign"].template_id,
                "period": "2026-03-01",
                "closes_on": "2026-04-20",
            },
            f"/surveys/actions/{a}/close/": {"note": "Gjort."},
            f"/surveys/actions/{b}/close/": {"note": "Gjort."},
            "/surveys/meetings/new/": meeting_form,
            f"/surveys/meetings/{m}/edit/": meeting_form,
            "/surveys/templates/new/": template_form("Ny mal"),
            f"/surveys/templates/{objects['campaign'].template_id}/edit/": template_form(""),
            "/surveys/rules/new/": rule_form,
            f"/surveys/rules/{objects['rule'].pk}/edit/": rule_form,
            "/surveys/tags/new/": {"name": "Nytt"},
            f"/surveys/agencies/{alfa}/comments/tag/": tagging,
            f"/surveys/agencies/{beta}/comments/tag/": tagging,
            f"/surveys/meetings/{m}/invite/": {"users": [objects["participant"].user_id], "all_contacts": "1"},
            f"/surveys/meetings/{m}/attendance/": {"participant": objects["participant"].pk, "attendance": "accepted"},
        },
    )


def test_a_key_account_manager_cannot_book_a_meeting_with_an_agency_they_do_not_serve(clients, agencies, objects):
    check_access_table(
        clients,
        {("kam", "POST", "/surveys/meetings/new/"): 400},
        data={
            "/surveys/meetings/new/": {
                "kind": "one_to_one",
                "title": "X",
                "starts_at": "2026-03-20T10:00",
                "agencies": [agencies["beta"].pk],
            }
        },
    )


def test_api(clients, agencies, cast, objects):
    a, b = objects["alfa_action"].pk, objects["beta_action"].pk
    table = {}
    for key in CAST:
        for url in (
            "/api/survey-results/",
            "/api/survey-templates/",
            "/api/survey-campaigns/",
            f"/api/survey-campaigns/{objects['campaign'].pk}/",
            "/api/survey-meetings/",
        ):
            table[key, "GET", url] = _status(key, RESULTS)
        table[key, "GET", "/api/survey-actions/"] = _status(key, ACTIONS)
        table[key, "GET", f"/api/survey-actions/{b}/"] = (
            404 if key in {"kam", "agency_admin"} else _status(key, ACTIONS)
        )
        table[key, "POST", "/api/survey-actions/"] = _status(key, RESULTS, ok=201)
        table[key, "PATCH", f"/api/survey-actions/{a}/"] = _status(key, RESULTS)
        table[key, "POST", f"/api/survey-actions/{a}/close/"] = _status(key, RESULTS)
        table[key, "POST", "/api/survey-meetings/"] = _status(key, RESULTS, ok=201)
        t, c, m = objects["campaign"].template_id, objects["campaign"].pk, objects["meeting"].pk
        table[key, "GET", "/api/survey-results/?role=system_owner"] = _status(key, RESULTS)
        table[key, "POST", "/api/survey-templates/"] = _status(key, RUN, ok=201)
        table[key, "POST", f"/api/survey-templates/{t}/revise/"] = _status(key, RUN, ok=201)  # answered: v2
        table[key, "POST", "/api/survey-campaigns/"] = _status(key, RUN, ok=201)
        table[key, "POST", f"/api/survey-campaigns/{c}/open/"] = _status(key, RUN)
        table[key, "POST", f"/api/survey-meetings/{m}/invite/"] = _status(key, RESULTS)
        table[key, "POST", f"/api/survey-meetings/{m}/attendance/"] = _status(key, RESULTS)
    for row in [row for row in table if row[0] == "vendor"]:
        table[row] = {"session": 401, "token": 403}  # no session; its token reaches no survey endpoint
    check_access_table(
        clients,
        table,
        data={
            "/api/survey-actions/": {
                "agency": agencies["alfa"].pk,
                "owner": cast["kam"].pk,
                "title": "Ny",
                "due_on": "2026-04-01",
            },
            f"/api/survey-actions/{a}/": {"title": "Endret"},
            f"/api/survey-actions/{a}/close/": {"note": "Gjort."},
            "/api/survey-templates/": {"name": "Ny", "questions": [{"kind": "text", "text": "Hva?"}]},
            f"/api/survey-templates/{objects['campaign'].template_id}/revise/": {
                "questions": [{"kind": "text", "text": "Hva?"}]
            },
            "/api/survey-campaigns/": {"template": objects["campaign"].template_id, "period": "2026-04-01"},
            f"/api/survey-meetings/{objects['meeting'].pk}/invite/": {"all_contacts": True},
            f"/api/survey-meetings/{objects['meeting'].pk}/attendance/": {
                "user": objects["participant"].user_id,
                "attendance": "attended",
            },
            "/api/survey-meetings/": {
                "kind": "one_to_one",
                "title": "Møte",
                "starts_at": "2026-03-20T10:00:00Z",
                "agencies": [agencies["alfa"].pk],
            },
        },
    )


def test_the_answer_page_needs_no_login_and_the_rest_does(client):
    assert client.get("/surveys/a/" + "x" * 43 + "/").status_code == 404
    assert client.get("/surveys/").status_code == 302
