"""The scheduler: wall-clock schedules (DST both ways), persisted runs (restart neither repeats nor skips,
a missed run is caught up once), and the lease that keeps a second scheduler idle."""

import signal
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kompass.core import scheduling
from kompass.core.models import ScheduledJob, SchedulerLease
from kompass.core.scheduling import Cron, Every, FirstWorkingDayOfMonth, first_working_day
from kompass.core.tests.processes import start_kompass, stop, wait_for

OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def slots(schedule, start: datetime, count: int) -> list[datetime]:
    found, moment = [], start
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment)
    return found


# --- Schedules ---------------------------------------------------------------------------------------------------


def test_cron_runs_a_job_in_the_skipped_spring_hour_once_right_after_the_jump():
    # 28 March 2027: clocks jump from 02:00 to 03:00, so 02:30 does not exist that night.
    found = slots(Cron("30 2 * * *"), oslo(2027, 3, 27, 12, 0), 3)
    assert [f.astimezone(UTC) for f in found] == [
        datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # 03:00 summer time
        datetime(2027, 3, 29, 0, 30, tzinfo=UTC),  # 02:30 summer time
        datetime(2027, 3, 30, 0, 30, tzinfo=UTC),
    ]


def test_cron_runs_a_fixed_time_job_once_in_the_repeated_autumn_hour():
    # 31 October 2027: 02:00-03:00 happens twice; croniter would fire 02:30 twice, cronsim fires it once.
    found = slots(Cron("30 2 * * *"), oslo(2027, 10, 30, 12, 0), 2)
    assert [f.astimezone(UTC) for f in found] == [
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 summer time, the first copy
        datetime(2027, 11, 1, 1, 30, tzinfo=UTC),  # next day, 02:30 winter time
    ]


def test_cron_with_a_wildcard_hour_keeps_real_time_through_both_switches():
    autumn = slots(Cron("*/30 * * * *"), oslo(2027, 10, 31, 1, 50), 6)
    gaps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in zip(autumn, autumn[1:], strict=False)}
    assert gaps == {timedelta(minutes=30)}  # 02:00, 02:30 (summer), 02:00, 02:30 (winter), 03:00, ...
    spring = slots(Cron("*/30 * * * *"), oslo(2027, 3, 28, 1, 10), 3)
    assert [f.astimezone(UTC) for f in spring] == [
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # 01:30 winter time
        datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # 03:00 summer time
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
    ]


def test_cron_from_inside_the_second_copy_of_the_autumn_hour_never_answers_the_past():
    inside_second_copy = datetime(2027, 10, 31, 1, 10, tzinfo=UTC)  # 02:10 winter time (fold=1)
    assert Cron("30 2 * * *").next_after(inside_second_copy) == oslo(2027, 11, 1, 2, 30)


def test_cron_rejects_an_invalid_expression():
    with pytest.raises(ValueError, match="Invalid cron expression"):
        Cron("61 * * * *")


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2027, 1, date(2027, 1, 4)),  # 1 January (Friday) is a holiday, then a weekend
        (2027, 5, date(2027, 5, 3)),  # 1 May is a Saturday
        (2021, 4, date(2021, 4, 6)),  # Maundy Thursday, Good Friday, Easter weekend, Easter Monday
        (2027, 9, date(2027, 9, 1)),  # an ordinary Wednesday
    ],
)
def test_first_working_day_skips_weekends_and_norwegian_holidays(year, month, expected):
    assert first_working_day(year, month) == expected


def test_first_working_day_of_the_month_at_seven_on_the_wall_clock():
    schedule = FirstWorkingDayOfMonth(time(7, 0))
    found = slots(schedule, oslo(2021, 3, 1, 7, 0), 3)
    assert found == [oslo(2021, 4, 6, 7, 0), oslo(2021, 5, 3, 7, 0), oslo(2021, 6, 1, 7, 0)]
    assert found[0].utcoffset() == timedelta(hours=2)  # summer time: 05:00 UTC
    assert schedule.next_after(oslo(2021, 4, 6, 6, 59)) == oslo(2021, 4, 6, 7, 0)
    assert str(schedule) == "first working day of the month at 07:00 (Europe/Oslo)"


def test_every_counts_real_time():
    start = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert Every(timedelta(minutes=45)).next_after(start) == start + timedelta(minutes=45)
    with pytest.raises(ValueError):
        Every(timedelta(0))


# --- Persistence ------------------------------------------------------------------------------------------------


@pytest.fixture
def jobs(monkeypatch):
    """An empty job registry, and a list of the runs of the jobs registered in it."""
    monkeypatch.setattr(scheduling, "JOBS", {})
    runs: list[str] = []

    def register(name: str, schedule, action=None):
        def job():
            runs.append(name)
            if action:
                action()

        scheduling.scheduled(schedule, name=name)(job)

    register.runs = runs
    return register


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2027, 9, 1, hour, minute, second, tzinfo=UTC)


@pytest.mark.django_db
def test_a_new_interval_job_runs_at_once_and_a_new_cron_job_waits_for_its_slot(jobs):
    jobs("beat", Every(timedelta(seconds=30)))
    jobs("hourly", "0 * * * *")
    assert scheduling.run_due(at(10, 20)) == ["beat"]
    assert ScheduledJob.objects.get(name="hourly").next_run_at == at(11)  # 13:00 in Oslo = 11:00 UTC
    beat = ScheduledJob.objects.get(name="beat")
    assert (beat.last_status, beat.last_started_at, beat.next_run_at) == ("ok", at(10, 20), at(10, 20, 30))
    assert beat.last_duration is not None


@pytest.mark.django_db
def test_a_restart_right_after_a_run_does_not_run_it_again(jobs):
    jobs("hourly", "0 * * * *")
    scheduling.run_due(at(10, 59))
    assert scheduling.run_due(at(11, 0, 0)) == ["hourly"]
    # A new scheduler process: an empty in-memory state, the same rows.
    assert scheduling.run_due(at(11, 0, 1)) == []
    assert scheduling.run_due(at(11, 59, 59)) == []
    assert scheduling.run_due(at(12, 0, 0)) == ["hourly"]
    assert jobs.runs == ["hourly", "hourly"]


@pytest.mark.django_db
def test_a_restart_before_the_slot_does_not_skip_it(jobs):
    jobs("hourly", "0 * * * *")
    scheduling.run_due(at(10, 30))  # scheduler stops at 10:30, comes back at 10:59
    assert scheduling.run_due(at(10, 59)) == []
    assert scheduling.run_due(at(11, 0, 1)) == ["hourly"]


@pytest.mark.django_db
def test_missed_slots_are_caught_up_once_then_planned_from_now(jobs):
    jobs("hourly", "0 * * * *")
    scheduling.run_due(at(9, 30))
    # Down from 9:30 until 13:20 UTC: the 10, 11, 12 and 13 o'clock slots passed.
    assert scheduling.run_due(at(13, 20)) == ["hourly"]
    assert scheduling.run_due(at(13, 21)) == []
    assert ScheduledJob.objects.get(name="hourly").next_run_at == at(14)
    assert jobs.runs == ["hourly"]


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_stays_planned(jobs):
    def boom():
        raise RuntimeError("vendor down")

    jobs("flaky", "0 * * * *", boom)
    jobs("fine", "0 * * * *")
    scheduling.run_due(at(10, 30))
    assert scheduling.run_due(at(11)) == ["flaky", "fine"]
    row = ScheduledJob.objects.get(name="flaky")
    assert (row.last_status, row.last_error, row.next_run_at) == ("failed", "RuntimeError: vendor down", at(12))
    assert ScheduledJob.objects.get(name="fine").last_status == "ok"


@pytest.mark.django_db
def test_a_scheduler_killed_mid_job_does_not_repeat_that_slot(jobs):
    """At most once per slot: the slot is claimed before the job runs."""

    def killed():
        raise KeyboardInterrupt  # stands in for the process dying: nothing after this line runs

    jobs("report", FirstWorkingDayOfMonth(time(7, 0)), killed)
    scheduling.run_due(oslo(2027, 8, 31, 12, 0))
    with pytest.raises(KeyboardInterrupt):
        scheduling.run_due(oslo(2027, 9, 1, 7, 0))
    row = ScheduledJob.objects.get(name="report")
    assert (row.last_status, row.next_run_at) == ("running", oslo(2027, 10, 1, 7, 0))
    assert scheduling.run_due(oslo(2027, 9, 1, 7, 1)) == []


@pytest.mark.django_db
def test_a_changed_schedule_is_planned_afresh(jobs):
    jobs("job", "0 * * * *")
    scheduling.run_due(at(10, 30))
    scheduling.JOBS.clear()
    jobs("job", "*/5 * * * *")
    scheduling.run_due(at(10, 31))
    row = ScheduledJob.objects.get(name="job")
    assert (row.schedule, row.next_run_at) == ("cron */5 * * * * (Europe/Oslo)", at(10, 35))


# --- The lease --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_scheduler_holds_the_lease_and_another_takes_over_when_it_expires():
    t0 = at(10)
    assert scheduling.acquire_lease("A", seconds=30, now=t0)
    assert not scheduling.acquire_lease("B", seconds=30, now=t0 + timedelta(seconds=1))
    assert scheduling.acquire_lease("A", seconds=30, now=t0 + timedelta(seconds=20))  # renewed to 10:00:50
    assert not scheduling.acquire_lease("B", seconds=30, now=t0 + timedelta(seconds=49))
    assert scheduling.acquire_lease("B", seconds=30, now=t0 + timedelta(seconds=50))
    lease = SchedulerLease.objects.get()
    assert (lease.holder, lease.acquired_at) == ("B", t0 + timedelta(seconds=50))
    assert not scheduling.acquire_lease("A", seconds=30, now=t0 + timedelta(seconds=51))


@pytest.mark.django_db
def test_a_released_lease_is_free_at_once():
    assert scheduling.acquire_lease("A", seconds=300)
    scheduling.release_lease("A")
    assert scheduling.acquire_lease("B", seconds=300)


@pytest.mark.django_db(transaction=True)  # the command closes connections between ticks
def test_scheduler_once_stands_by_while_another_holds_the_lease(jobs):
    from django.core.management import call_command

    jobs("beat", Every(timedelta(seconds=30)))
    assert scheduling.acquire_lease("someone-else", seconds=300)
    call_command("scheduler", once=True)
    assert jobs.runs == []
    scheduling.release_lease("someone-else")
    call_command("scheduler", once=True)
    assert "beat" in jobs.runs


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_scheduler_processes_run_each_job_once_and_the_standby_takes_over(tmp_path):
    from kompass.core.tests.durable_app.models import Tick

    options = ["scheduler", "--tick", "0.2", "--lease-seconds", "2"]
    first = start_kompass(*options, "--holder", "first", log=tmp_path / "first.log")
    wait_for(lambda: SchedulerLease.objects.filter(holder="first").exists(), message="the first scheduler's lease")
    second = start_kompass(*options, "--holder", "second", log=tmp_path / "second.log")
    processes = {"first": first, "second": second}
    try:
        wait_for(lambda: Tick.objects.count() >= 3, message="three ticks")
        wait_for(lambda: "stands by" in (tmp_path / "second.log").read_text(), message="the standby's log line")
        assert set(Tick.objects.values_list("pid", flat=True)) == {first.pid}

        stop(first, signal.SIGKILL)  # no chance to release the lease
        killed_at = Tick.objects.count()
        wait_for(lambda: Tick.objects.filter(pid=second.pid).exists(), timeout=15, message="the standby's tick")
        assert SchedulerLease.objects.get().holder == "second"
        wait_for(lambda: Tick.objects.filter(pid=second.pid).count() >= 2, message="more ticks")
        ticks = list(Tick.objects.order_by("at").values_list("at", flat=True))
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        # One slot per second: each tick records the slot it claimed, and a slot is claimed only once its
        # predecessor's next_run_at (claim + 1 s) has come, by whichever process; a slot run twice would
        # leave a gap of zero. (Timing of the job's own writes would flake on a loaded machine.)
        assert min(gaps) >= timedelta(seconds=1), "a one-second job ran twice in one slot"
        assert Tick.objects.filter(pid=first.pid).count() == killed_at

        assert stop(second) == 0
        assert SchedulerLease.objects.get().expires_at <= datetime.now(UTC)  # released on a clean stop
    finally:
        for process in processes.values():
            stop(process, signal.SIGKILL)


@pytest.mark.django_db
def test_admin_lists_jobs_read_only(client, jobs):
    from kompass.core.models import User

    client.force_login(User.objects.create_superuser(email="root@test.example", password="x-very-long-password"))
    jobs("beat", Every(timedelta(seconds=30)))
    scheduling.run_due()
    response = client.get("/django-admin/core/scheduledjob/")
    assert response.status_code == 200
    assert b"beat" in response.content
    assert client.get("/django-admin/core/scheduledjob/add/").status_code == 403
