"""Comment tags (under the small-group rule), meeting invitations and attendance (through the ledger)."""

import datetime as dt

import pytest
from django.apps import apps

from kompass.core.roles import Role
from kompass.surveys import services
from kompass.surveys.models import Answer, CommentTag, CommentTagging, Meeting, MeetingParticipant, Response, ResultCell

pytestmark = pytest.mark.django_db
MARCH = dt.date(2026, 3, 1)
Delivery = apps.get_model("notifications", "Delivery")


def _month(agency, template, campaign, n, comments):
    """``n`` answers for ``agency`` in March (a cell of n), the first ones carrying ``comments``."""
    question = template.questions.get(dimension="stability")
    ResultCell.objects.create(
        agency=agency, role=Role.AGENCY_IT_CONTACT, question=question, campaign=campaign, period=MARCH,
        dimension="stability", n=n, total=4 * n, scale_min=1, scale_max=5,
    )  # fmt: skip
    for i in range(n):
        response = Response.objects.create(
            campaign=campaign, agency=agency, role=Role.AGENCY_IT_CONTACT, submitted_on=MARCH
        )
        Answer.objects.create(
            response=response, question=question, value=4, comment=comments[i] if i < len(comments) else ""
        )


@pytest.fixture
def month(agencies, template):
    campaign = services.create_campaign(template, period=MARCH, opens_on=dt.date(2026, 4, 1))
    _month(agencies["alfa"], template, campaign, 6, ["Treg leverandør", "Bra info"])
    _month(agencies["beta"], template, campaign, 2, ["Liten gruppe"])  # hidden: its words are too
    return {
        "vendor": CommentTag.objects.create(name="Leverandør"),
        "info": CommentTag.objects.create(name="Informasjon"),
    }


def test_comments_are_tagged_filtered_and_counted_only_where_shown(clients, agencies, month):
    alfa, beta = agencies["alfa"], agencies["beta"]
    client = clients("kam")
    url = f"/surveys/agencies/{alfa.pk}/comments/tag/"
    digest = services.comment_digest("Treg leverandør")
    tags = [month["vendor"].pk, month["info"].pk]
    response = client.post(url, {"period": "2026-03", "digest": digest, "tags": tags})
    assert response.status_code == 302
    assert services.tag_comment(alfa.pk, MARCH, digest, [month["vendor"].pk]) == [month["vendor"].pk]  # untag one
    page = client.get(f"/surveys/agencies/{alfa.pk}/?end=2026-03&tag={month['vendor'].pk}")
    assert [c["text"] for c in page.context["comments"]] == ["Treg leverandør"]
    assert [c["text"] for c in client.get(f"/surveys/agencies/{alfa.pk}/?end=2026-03").context["comments"]] == [
        "Bra info",
        "Treg leverandør",
    ]
    # A hidden month's comment, a made-up digest, an unknown month: 400 and nothing written.
    before = CommentTagging.objects.count()
    hidden = services.comment_digest("Liten gruppe")
    agreement = clients("agreement")
    for target, data in (
        (f"/surveys/agencies/{beta.pk}/comments/tag/", {"period": "2026-03", "digest": hidden, "tags": tags}),
        (url, {"period": "2026-03", "digest": "0" * 64, "tags": tags}),
        (url, {"period": "mars", "digest": digest, "tags": tags}),
    ):
        assert agreement.post(target, data).status_code == 400
    assert CommentTagging.objects.count() == before
    # A tagging left in a month that is hidden never counts (made by hand here: no page would write it).
    CommentTagging.objects.create(agency=beta, period=MARCH, digest=hidden, tag=month["vendor"])
    counts = {tag.name: (n, a) for tag, n, a in services.tag_counts(MARCH, MARCH)}
    assert counts == {"Leverandør": (1, 1), "Informasjon": (0, 0)}
    listing = agreement.get(f"/surveys/tags/?end=2026-03&tag={month['vendor'].pk}")
    assert [i["text"] for i in listing.context["listed"]] == ["Treg leverandør"]
    assert "Liten gruppe" not in listing.content.decode()


def test_a_breakfast_meeting_invites_through_the_ledger_and_records_attendance(clients, agencies, cast, people):
    client = clients("agreement")
    meeting = Meeting.objects.create(
        kind=Meeting.Kind.EVENT, title="Frokostmøte", starts_at=dt.datetime(2026, 6, 10, 8, tzinfo=dt.UTC)
    )
    meeting.agencies.set([agencies["beta"], agencies["gamma"]])
    extra = people("gamma", Role.SYSTEM_OWNER)[0]
    contact = people("beta", Role.AGENCY_IT_CONTACT)[0]
    response = client.post(f"/surveys/meetings/{meeting.pk}/invite/", {"users": [cast["kam"].pk], "all_contacts": "1"})
    assert response.status_code == 302
    invited = set(MeetingParticipant.objects.filter(meeting=meeting).values_list("user", flat=True))
    assert invited == {cast["kam"].pk, contact.pk, extra.pk}  # alfa's people are not asked
    rows = Delivery.objects.filter(event="surveys.meeting_invitation")
    assert {d.recipient_id for d in rows} == invited and {d.channel for d in rows} == {"email", "portal"}
    # Inviting again adds nobody and sends nothing more.
    client.post(f"/surveys/meetings/{meeting.pk}/invite/", {"all_contacts": "1"})
    assert Delivery.objects.filter(event="surveys.meeting_invitation").count() == rows.count()
    # A user outside the meeting's agencies cannot be invited; an empty invitation is refused.
    assert client.post(f"/surveys/meetings/{meeting.pk}/invite/", {"users": [cast["owner"].pk]}).status_code == 400
    assert client.post(f"/surveys/meetings/{meeting.pk}/invite/", {}).status_code == 400
    participant = MeetingParticipant.objects.get(meeting=meeting, user=extra)
    url = f"/surveys/meetings/{meeting.pk}/attendance/"
    assert client.post(url, {"participant": participant.pk, "attendance": "attended"}).status_code == 302
    participant.refresh_from_db()
    assert participant.attendance == "attended"
    assert client.post(url, {"participant": participant.pk, "attendance": "maybe"}).status_code == 400
    assert client.post(url, {"participant": 0, "attendance": "absent"}).status_code == 400
    participant.refresh_from_db()
    assert participant.attendance == "attended"
    page = client.get(meeting.get_absolute_url())
    assert page.context["attendance_counts"] == [("Invitert", 2), ("Deltok", 1)]
