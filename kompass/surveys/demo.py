"""Demo data of the surveys: twelve monthly campaigns (December 2025 to November 2026) for every agency.

The story: the link to the vendor broke in spring 2026, so the scores dip from April, bottom out in May
and June and recover from August, when the dialogue meetings (a breakfast meeting for all in June, then one
to one) had their effect. Answers come from the agencies' IT main contacts and system owners (core's
demo people, topped up to 6–18 per agency: an anonymous response names nobody), each answering most
months. Runs after core's demo load (``demo_data_loaded``), deterministically from the seed, idempotently
(a campaign month that exists is skipped, as are existing meetings and rules), with bulk writes and
auditlog off: a demo is not a person's change.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from kompass.core.signals import demo_data_loaded

DEMO_TODAY = dt.date(2026, 12, 1)
FIRST_MONTH = dt.date(2025, 12, 1)
#: How much lower than usual each month scores (the vendor link broke in April 2026).
DIP = {
    dt.date(2026, 4, 1): 0.6,
    dt.date(2026, 5, 1): 1.4,
    dt.date(2026, 6, 1): 1.5,
    dt.date(2026, 7, 1): 0.9,
    dt.date(2026, 8, 1): 0.4,
}
#: Each dimension's usual level; resolution time suffers most from a broken link.
BASE = {"stability": 3.9, "resolution_time": 3.7, "follow_up": 3.6}
WEIGHT = {"stability": 0.6, "resolution_time": 1.0, "follow_up": 0.9}
COMMENTS = [
    "Saker blir liggende hos leverandøren uten at vi hører noe.",
    "Bedre enn i fjor, takk for rask hjelp.",
    "Vi får ikke beskjed når en feil er løst.",
    "Nedetid i fagsystemet midt i arbeidstiden.",
    "God oppfølging fra kundeansvarlig.",
    "Ønsker en fast kontaktperson hos leverandøren.",
]


def months() -> list[dt.date]:
    found, month = [], FIRST_MONTH
    while month < DEMO_TODAY:
        found.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return found


@receiver(demo_data_loaded, dispatch_uid="surveys_demo")
def add_surveys_demo(sender, seed: int = 2026, **kwargs) -> str:
    from auditlog.context import disable_auditlog

    with transaction.atomic(), disable_auditlog():
        counts = load(random.Random(seed))
    return "Surveys: " + ", ".join(f"{n} {label}" for label, n in counts.items())


def _score(rng: random.Random, dimension: str, month: dt.date, agency_bias: float, person_bias: float) -> int | None:
    if rng.random() < 0.05:
        return None  # "don't know"
    mean = BASE[dimension] + agency_bias + person_bias - DIP.get(month, 0) * WEIGHT[dimension]
    return max(1, min(5, round(rng.gauss(mean, 0.7))))


def load(rng: random.Random, *, month_list=None, respondents=None) -> dict[str, int]:  # noqa: C901 - one walk
    """Write the demo. ``month_list`` and ``respondents`` (``{agency_id: [(role, user_id)]}``) let the
    benchmark reuse it for five years and forty people an agency."""
    from kompass.core.models import Agency, RoleAssignment
    from kompass.core.roles import Role
    from kompass.surveys import services
    from kompass.surveys.models import (
        Action,
        Answer,
        Campaign,
        FollowUpRule,
        Meeting,
        MeetingParticipant,
        Response,
        ResultCell,
    )

    template = services.default_template(monthly=True)
    questions = list(template.questions.all())
    ratings = [q for q in questions if q.kind == "rating"]
    text_question = next(q for q in questions if q.kind == "text")
    agencies = list(Agency.objects.order_by("short_code"))
    if respondents is None:
        respondents = defaultdict(list)
        seen = set()
        for agency_id, role, user_id in (
            RoleAssignment.objects.filter(role__in=template.roles, agency__isnull=False)
            .order_by("agency_id", "role", "user_id")
            .values_list("agency_id", "role", "user_id")
        ):
            if (agency_id, user_id) not in seen:
                seen.add((agency_id, user_id))
                respondents[agency_id].append((role, user_id))
        # Core's demo names only a few contacts per agency; the survey is answered as if each agency had
        # 6–18 people asked (anonymous responses name nobody, so these need no user account).
        for agency in agencies:
            people = respondents[agency.pk]
            for extra in range(max(0, rng.randint(6, 18) - len(people))):
                people.append((template.roles[extra % len(template.roles)], -(agency.pk * 100 + extra)))
    agency_bias = {a.pk: rng.gauss(0, 0.35) for a in agencies}
    person_bias = {(a, u): rng.gauss(0, 0.3) for a, people in respondents.items() for _r, u in people}
    counts = defaultdict(int)
    existing = set(Campaign.objects.filter(template__name=template.name).values_list("period", flat=True))
    for month in month_list or months():
        if month in existing:
            continue
        opens = services.first_of_month(month + dt.timedelta(days=32))
        campaign = Campaign.objects.create(
            template=template,
            title=f"{template.name} {month:%m.%Y}",
            period=month,
            opens_on=opens,
            closes_on=opens + dt.timedelta(days=template.days_open),
            status=Campaign.Status.CLOSED,
            scheduled=True,
        )
        responses, sheets = [], []
        for agency in agencies:
            for role, user_id in respondents.get(agency.pk, []):
                if rng.random() > 0.78:
                    continue
                responses.append(
                    Response(
                        campaign=campaign,
                        agency_id=agency.pk,
                        role=role,
                        submitted_on=opens + dt.timedelta(days=rng.randrange(10)),
                    )
                )
                sheets.append(
                    [
                        (q, _score(rng, q.dimension, month, agency_bias[agency.pk], person_bias[agency.pk, user_id]))
                        for q in ratings
                    ]
                )
        Response.objects.bulk_create(responses, batch_size=2000)
        answers, cells = [], {}
        for response, sheet in zip(responses, sheets, strict=True):
            for question, value in sheet:
                answers.append(
                    Answer(
                        response=response,
                        question=question,
                        value=value,
                        dont_know=value is None,
                        scale_min=1,
                        scale_max=5,
                    )
                )
                key = (question.pk, response.agency_id, response.role)
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = ResultCell(
                        campaign=campaign,
                        question=question,
                        agency_id=response.agency_id,
                        role=response.role,
                        period=month,
                        dimension=question.dimension,
                        scale_min=1,
                        scale_max=5,
                        distribution={},
                    )
                if value is None:
                    cell.dont_know += 1
                else:
                    cell.n += 1
                    cell.total += value
                    cell.distribution[str(value)] = cell.distribution.get(str(value), 0) + 1
            if rng.random() < 0.08:
                answers.append(Answer(response=response, question=text_question, text=rng.choice(COMMENTS)))
        Answer.objects.bulk_create(answers, batch_size=5000)
        ResultCell.objects.bulk_create(cells.values(), batch_size=2000)
        Campaign.objects.filter(pk=campaign.pk).update(
            invited=sum(len(p) for p in respondents.values()), answered=len(responses)
        )
        counts["campaigns"] += 1
        counts["responses"] += len(responses)
    if month_list is not None:
        return dict(counts)

    # Follow-up rules, and the actions they opened in the dip (owned by each agency's key account manager).
    below, _ = FollowUpRule.objects.get_or_create(
        name="Løsningstid under 2,5", defaults={"dimension": "resolution_time", "kind": "below", "value": "2.5"}
    )
    FollowUpRule.objects.get_or_create(
        name="Fall i oppfølgingskvalitet", defaults={"dimension": "follow_up", "kind": "drop", "value": "0.7"}
    )
    kam_of = {}
    for agency_id, user in (
        RoleAssignment.objects.filter(role=Role.KEY_ACCOUNT_MANAGER).order_by("pk").values_list("agency_id", "user")
    ):
        kam_of.setdefault(agency_id, user)
    dip_month = dt.date(2026, 5, 1)
    figures = services.grid("resolution_time", dip_month, dip_month)
    done_actions = set(Action.objects.filter(rule=below, period=dip_month).values_list("agency_id", flat=True))
    new_actions = []
    for (agency_id, _month), figure in sorted(figures.cells.items()):
        if (
            figure.mean is None
            or figure.mean >= float(below.value)
            or agency_id in done_actions
            or agency_id not in kam_of
        ):
            continue
        closed = rng.random() < 0.7
        new_actions.append(
            Action(
                agency_id=agency_id,
                owner_id=kam_of[agency_id],
                rule=below,
                period=dip_month,
                title=f"{below.name}: 05.2026",
                description=f"Løsningstid {figure.mean:.2f} < {below.value}",
                due_on=dt.date(2026, 7, 15) if closed else dt.date(2026, 11, 15) + dt.timedelta(days=rng.randrange(30)),
                status="done" if closed else rng.choice(["open", "in_progress"]),
                closing_note="Gjennomgått med leverandøren; varsling ved løst sak innført." if closed else "",
                closed_at=timezone.make_aware(dt.datetime(2026, 7, 10, 12)) if closed else None,
            )
        )
    Action.objects.bulk_create(new_actions)
    counts["actions"] = len(new_actions)

    # The breakfast meeting for all, then one-to-one meetings with the agencies that scored lowest.
    zone = timezone.get_current_timezone()
    if not Meeting.objects.filter(title="Frokostmøte: temperaturmålingene").exists():
        breakfast = Meeting.objects.create(
            kind=Meeting.Kind.EVENT,
            title="Frokostmøte: temperaturmålingene",
            starts_at=dt.datetime(2026, 6, 18, 8, 0, tzinfo=zone),
            location="Rådhuset, Bankettsalen",
            agenda="Resultatene fra vårens målinger\nLeverandørkoblingen\nVeien videre",
            notes="Godt oppmøte. Mange kjente seg igjen i at de ikke får beskjed når saker løses.",
            decisions="Én-til-én-møter med alle virksomheter med løsningstid under 3.",
            period=dip_month,
        )
        breakfast.agencies.set(agencies)
        participants = []
        for agency in agencies:
            for _role, user_id in [p for p in respondents.get(agency.pk, []) if p[1] > 0][:2]:
                participants.append(
                    MeetingParticipant(
                        meeting=breakfast,
                        user_id=user_id,
                        attendance=rng.choice(["attended", "attended", "attended", "absent", "declined"]),
                    )
                )
        MeetingParticipant.objects.bulk_create(participants, ignore_conflicts=True)
        counts["meetings"] += 1
        for index, action in enumerate(new_actions):
            meeting = Meeting.objects.create(
                kind=Meeting.Kind.ONE_TO_ONE,
                title="Oppfølgingsmøte: temperaturmåling",
                starts_at=dt.datetime(2026, 7 + index % 6, 2 + index % 20, 10, 0, tzinfo=zone),
                agenda="Målingene siden april\nÅpne saker\nTiltak",
                period=dip_month,
                notes="Gikk gjennom målingene og de åpne sakene." if index % 5 < 4 else "",
                organiser_id=action.owner_id,
            )
            meeting.agencies.set([action.agency_id])
            MeetingParticipant.objects.bulk_create(
                [MeetingParticipant(meeting=meeting, user_id=action.owner_id, attendance="attended")]
                + [
                    MeetingParticipant(meeting=meeting, user_id=u, attendance="attended")
                    for _r, u in [p for p in respondents.get(action.agency_id, []) if p[1] > 0][:1]
                ],
                ignore_conflicts=True,
            )
            Action.objects.filter(pk=action.pk).update(meeting=meeting)
            counts["meetings"] += 1
    counts["taggings"] = _tag_comments()
    return dict(counts)


#: The demo's comment tags and the comments each fits.
TAGS = {
    "Leverandør": [COMMENTS[0], COMMENTS[5]],
    "Informasjon": [COMMENTS[0], COMMENTS[2]],
    "Driftsstabilitet": [COMMENTS[3]],
    "Ros": [COMMENTS[1], COMMENTS[4]],
}


def _tag_comments() -> int:
    """Tag the demo's comments as an agreement manager would (idempotent)."""
    from kompass.surveys import services
    from kompass.surveys.models import Answer, CommentTag, CommentTagging

    tags = {name: CommentTag.objects.get_or_create(name=name)[0] for name in TAGS}
    seen = (
        Answer.objects.filter(text__in=COMMENTS)
        .values_list("response__agency_id", "response__campaign__period", "text")
        .distinct()
    )
    rows = [
        CommentTagging(agency_id=agency_id, period=period, digest=services.comment_digest(text), tag=tags[name])
        for agency_id, period, text in seen
        for name, texts in TAGS.items()
        if text in texts
    ]
    return len(CommentTagging.objects.bulk_create(rows, ignore_conflicts=True))
