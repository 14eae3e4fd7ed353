"""Reminders, schedules, follow-up rules and overdue actions."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from kompass.core.roles import Role
from kompass.core.scheduling import JOBS
from kompass.surveys import scheduling, services
from kompass.surveys.models import Action, Campaign, FollowUpRule, Invitation, ResultCell, SurveyTemplate
from kompass.surveys.tests.conftest import answer_all

pytestmark = pytest.mark.django_db
assert scheduling.open_monthly  # registers the jobs, as `kompass scheduler` does
OSLO = ZoneInfo("Europe/Oslo")
# The ledger, looked up by name (the import contracts let this app reach notifications only through services).
Delivery = apps.get_model("notifications", "Delivery")


def test_reminders_go_once_to_those_who_have_not_answered_with_a_new_link(
    client, open_campaign, issued, cast, template, monkeypatch
):
    answer_all(client, issued[cast["it_contact"].email], template)
    old_link = issued[cast["owner"].email]
    assert services.send_reminders(open_campaign.opens_on + dt.timedelta(days=6)) == 0  # too early
    later = open_campaign.opens_on + dt.timedelta(days=template.remind_after_days)
    assert services.send_reminders(later) == 1
    assert services.send_reminders(later + dt.timedelta(days=1)) == 0  # once
    reminders = Delivery.objects.filter(event="surveys.reminder")
    assert [d.recipient for d in reminders] == [cast["owner"]]
    new_link = issued[cast["owner"].email]
    assert new_link != old_link
    assert services.resolve_link(old_link)[0] == services.LinkState.UNKNOWN
    assert services.resolve_link(new_link)[0] == services.LinkState.VALID
    invitations = Delivery.objects.filter(event="surveys.invitation")
    assert {d.recipient for d in invitations} == {cast["it_contact"], cast["owner"]}


def test_the_monthly_schedule_opens_last_months_campaign_on_the_first_working_day(cast, monkeypatch, issued):
    SurveyTemplate.objects.create(name="Månedlig", monthly=True, days_open=10)
    job = JOBS["surveys.monthly"]
    # 1 January 2027 is a holiday, 2–3 January a weekend: the first working day is Monday 4 January.
    slot = job.schedule.next_after(dt.datetime(2026, 12, 15, tzinfo=OSLO))
    assert slot == dt.datetime(2027, 1, 4, 7, 0, tzinfo=OSLO)
    monkeypatch.setattr(services, "_today", lambda: dt.date(2027, 1, 4))
    job.func()
    job.func()  # a rerun in the same month opens nothing more
    campaign = Campaign.objects.get()
    assert (campaign.period, campaign.status, campaign.closes_on) == (
        dt.date(2026, 12, 1),
        "open",
        dt.date(2027, 1, 14),
    )
    assert campaign.scheduled and campaign.invited == 2


def test_the_daily_job_closes_due_campaigns_and_forgets_the_recipients(open_campaign, monkeypatch):
    monkeypatch.setattr(services, "_today", lambda: open_campaign.closes_on + dt.timedelta(days=1))
    JOBS["surveys.daily"].func()
    open_campaign.refresh_from_db()
    assert open_campaign.status == "closed"
    assert not Invitation.objects.filter(recipient__isnull=False).exists()


def _cell(agency, template, period, value, n=6):
    question = template.questions.get(dimension="resolution_time")
    campaign = Campaign.objects.filter(period=period).first() or services.create_campaign(template, period=period)
    ResultCell.objects.create(
        agency=agency,
        role=Role.AGENCY_IT_CONTACT,
        question=question,
        campaign=campaign,
        period=period,
        dimension="resolution_time",
        n=n,
        total=value * n,
        scale_min=1,
        scale_max=5,
    )


def test_rules_open_one_action_for_the_key_account_manager(agencies, cast, template, today):
    feb, mar = dt.date(2026, 2, 1), dt.date(2026, 3, 1)
    FollowUpRule.objects.create(name="Under 3", dimension="resolution_time", kind="below", value=Decimal(3))
    FollowUpRule.objects.create(name="Fall", dimension="resolution_time", kind="drop", value=Decimal("0.5"))
    _cell(agencies["alfa"], template, feb, 4)
    _cell(agencies["alfa"], template, mar, 2)  # below 3, and a drop of 2
    _cell(agencies["gamma"], template, feb, 4)
    _cell(agencies["gamma"], template, mar, 4)  # fine
    _cell(agencies["beta"], template, mar, 1, n=2)  # too small to count: no action reveals it
    opened = services.evaluate_rules(mar)
    assert sorted(a.rule.name for a in opened) == ["Fall", "Under 3"]
    assert {a.agency for a in opened} == {agencies["alfa"]} and {a.owner for a in opened} == {cast["kam"]}
    assert services.evaluate_rules(mar) == []  # once per rule, agency and month
    assert Delivery.objects.filter(event="surveys.action_opened", recipient=cast["kam"], channel="email").count() == 2


def test_overdue_actions_are_flagged_and_notified_once(agencies, cast, today):
    action = services.open_action(
        agency_id=agencies["alfa"].pk, owner=cast["kam"], title="Ring leverandøren", due_on=today - dt.timedelta(days=1)
    )
    services.open_action(agency_id=agencies["alfa"].pk, owner=cast["kam"], title="Senere", due_on=today)
    assert list(services.overdue_actions()) == [action]
    assert services.notify_overdue() == 1 and services.notify_overdue() == 0
    assert Delivery.objects.filter(event="surveys.action_overdue", channel="email").count() == 1
    services.close_action(action, note="Gjort.")
    assert not services.overdue_actions().exists()
    with pytest.raises(services.SurveyError):
        services.close_action(Action.objects.get(title="Senere"), note=" ")
