"""Durable work rows: claims with leases and fencing, back-off with jitter, the dead state, retry, the
registry and drain, separate queues, and a real worker killed mid-claim."""

import io
import random
import re
import signal
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from kompass.core import durable
from kompass.core.durable import DurableWork, backoff_delay, claim, complete, fail, process, renew, retry
from kompass.core.tests.durable_app.durable import handle_chore
from kompass.core.tests.durable_app.models import Chore, ChoreEffect
from kompass.core.tests.processes import start_kompass, stop, wait_for

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # in the past, so rows made at T0 are due for real workers too
State = DurableWork.State


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def chores(n: int, payload: str = "ok", **fields) -> list[Chore]:
    fields.setdefault("next_attempt_at", T0)
    return [Chore.objects.create(payload=payload, **fields) for _ in range(n)]


# --- Claiming -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_claim_takes_due_pending_rows_and_counts_an_attempt():
    due = chores(2)
    Chore.objects.create(next_attempt_at=later(60))  # not yet due
    claimed = claim(Chore, "w1", now=T0, lease_seconds=30)
    assert [c.pk for c in claimed] == [c.pk for c in due]
    for row in claimed:
        assert (row.state, row.claimed_by, row.attempts, row.lease_expires_at) == ("claimed", "w1", 1, later(30))
        assert len(row.claim_token) == 32
    assert claim(Chore, "w2", now=later(1)) == []  # claimed rows are not claimable while the lease holds


@pytest.mark.django_db
def test_claim_respects_the_limit_and_order():
    first, second, third = chores(3)
    assert [c.pk for c in claim(Chore, "w1", limit=2, now=T0)] == [first.pk, second.pk]
    assert [c.pk for c in claim(Chore, "w2", limit=2, now=T0)] == [third.pk]


@pytest.mark.django_db
def test_a_lost_workers_claim_is_taken_over_after_its_lease_expires():
    (row,) = chores(1)
    (mine,) = claim(Chore, "killed", now=T0, lease_seconds=30)
    assert claim(Chore, "rescuer", now=later(29)) == []
    (theirs,) = claim(Chore, "rescuer", now=later(31), lease_seconds=30)
    assert (theirs.pk, theirs.claimed_by, theirs.attempts) == (row.pk, "rescuer", 2)
    assert theirs.claim_token != mine.claim_token


@pytest.mark.django_db
def test_fencing_a_worker_that_lost_its_claim_cannot_overwrite_the_new_holders_result():
    chores(1)
    (old,) = claim(Chore, "slow", now=T0, lease_seconds=30)
    (new,) = claim(Chore, "rescuer", now=later(31))
    assert not complete(old, now=later(32))
    assert not fail(old, "late failure", now=later(32))
    assert not renew(old, now=later(32))
    assert complete(new, now=later(33))
    row = Chore.objects.get()
    assert (row.state, row.claimed_by, row.last_error, row.finished) == ("done", "rescuer", "", later(33))


@pytest.mark.django_db
def test_renew_keeps_an_expired_but_untaken_claim():
    chores(1)
    (row,) = claim(Chore, "w1", now=T0, lease_seconds=30)
    assert renew(row, lease_seconds=30, now=later(40))
    assert claim(Chore, "w2", now=later(41)) == []
    assert Chore.objects.get().lease_expires_at == later(70)


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_each_row_exactly_once():
    Chore.objects.bulk_create([Chore(next_attempt_at=T0) for _ in range(60)])
    claims: dict[str, list[int]] = {}

    def worker(name):
        try:
            claims[name] = []
            while batch := claim(Chore, name, limit=4, lease_seconds=300):
                claims[name] += [row.pk for row in batch]
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = [pk for pks in claims.values() for pk in pks]
    assert sorted(claimed) == sorted(Chore.objects.values_list("pk", flat=True))  # every row, none twice
    assert set(Chore.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_claim_skips_rows_another_worker_has_locked_instead_of_waiting():
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SELECT ... FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite serialises writers instead")
    from django.db import transaction

    locked, free = chores(2)
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(Chore.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        assert [row.pk for row in claim(Chore, "w1", now=T0 + timedelta(seconds=1))] == [free.pk]
    finally:
        release.set()
        thread.join(timeout=30)
    assert [row.pk for row in claim(Chore, "w1", now=T0 + timedelta(seconds=1))] == [locked.pk]


# --- Failing, back-off, dead, retry ---------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    rng = random.Random(7)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (6, 300), (30, 300)]:
        delays = [backoff_delay(attempts, base=10, cap=300, rng=rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed
    assert backoff_delay(3, base=10, cap=300, rng=random.Random(1)) == backoff_delay(
        3, base=10, cap=300, rng=random.Random(1)
    )


@pytest.mark.django_db
def test_a_failed_attempt_goes_back_to_pending_after_a_deterministic_backoff():
    chores(1)
    (row,) = claim(Chore, "w1", now=T0)
    assert fail(row, "HTTP 503", now=later(1), rng=random.Random(42))
    expected = later(1) + timedelta(seconds=backoff_delay(1, base=10, cap=300, rng=random.Random(42)))
    stored = Chore.objects.get()
    assert (stored.state, stored.last_error, stored.next_attempt_at, stored.claim_token) == (
        "pending",
        "HTTP 503",
        expected,
        "",
    )
    assert 5 <= (expected - later(1)).total_seconds() <= 10
    assert claim(Chore, "w1", now=expected - timedelta(seconds=0.001)) == []
    assert len(claim(Chore, "w1", now=expected)) == 1


@pytest.mark.django_db
def test_a_row_is_dead_after_max_attempts_keeping_the_last_error_until_retried():
    chores(1, max_attempts=3)
    now = T0
    for attempt in range(1, 4):
        (row,) = claim(Chore, "w1", now=now)
        assert row.attempts == attempt
        fail(row, f"error {attempt}", now=now)
        now = Chore.objects.get().next_attempt_at if attempt < 3 else now
    dead = Chore.objects.get()
    assert (dead.state, dead.attempts, dead.last_error, dead.finished) == ("dead", 3, "error 3", now)
    assert claim(Chore, "w1", now=later(10**6)) == []

    assert retry(Chore, [dead.pk], now=later(100)) == 1
    revived = Chore.objects.get()
    assert (revived.state, revived.attempts, revived.next_attempt_at, revived.finished) == (
        "pending",
        0,
        later(100),
        None,
    )
    assert revived.last_error == "error 3"  # kept until the next failure replaces it
    assert retry(Chore, [dead.pk]) == 0  # only dead rows are revived


@pytest.mark.django_db
def test_retry_with_states_asks_done_rows_again_and_never_resets_pending_or_claimed_ones():
    done, pending, claimed = chores(3)
    (row,) = claim(Chore.objects.filter(pk=done.pk), "w1", now=T0)
    complete(row, now=later(1))
    claim(Chore.objects.filter(pk=claimed.pk), "w2", now=T0)
    states = (DurableWork.State.DONE,)
    assert retry(Chore, [done.pk, pending.pk, claimed.pk], now=later(5), states=states) == 1
    again = Chore.objects.get(pk=done.pk)
    assert (again.state, again.attempts, again.next_attempt_at, again.finished) == ("pending", 0, later(5), None)
    assert Chore.objects.get(pk=claimed.pk).state == "claimed"
    assert retry(Chore, [done.pk], states=states) == 0  # pending now: asking again does nothing


@pytest.mark.django_db
def test_a_row_whose_worker_dies_on_the_last_attempt_goes_dead_not_round_again():
    chores(1, max_attempts=2)
    claim(Chore, "killed-1", now=T0, lease_seconds=10)
    claim(Chore, "killed-2", now=later(11), lease_seconds=10)
    assert claim(Chore, "w3", now=later(22)) == []
    row = Chore.objects.get()
    assert (row.state, row.attempts) == ("dead", 2)
    assert "lease expired" in row.last_error


@pytest.mark.django_db
def test_retry_command_revives_named_or_all_dead_rows():
    one, two, alive = chores(2, state=State.DEAD, attempts=8) + chores(1)
    out = io.StringIO()
    call_command("durable", "retry", "durable_test.chore", str(one.pk), stdout=out)
    assert "1 dead row(s)" in out.getvalue()
    assert Chore.objects.get(pk=one.pk).state == "pending"
    call_command("durable", "retry", "durable_test.chore", "--all-dead", stdout=io.StringIO())
    assert set(Chore.objects.values_list("state", flat=True)) == {"pending"}
    with pytest.raises(CommandError, match="ids"):
        call_command("durable", "retry", "durable_test.chore")
    with pytest.raises(CommandError, match="not a durable"):
        call_command("durable", "retry", "durable_test.choreeffect", "1")
    with pytest.raises(CommandError, match="No model"):
        call_command("durable", "retry", "nope.nothing", "1")


# --- Processing, registry, drain, queues ----------------------------------------------------------------------


@pytest.mark.django_db
def test_process_completes_good_rows_and_fails_bad_ones():
    good = chores(2)
    (bad,) = chores(1, payload="fail")
    result = process(Chore, handle_chore, "w1", limit=10)
    assert (result.done, result.failed, result.lost) == (2, 1, 0)
    assert {c.pk for c in Chore.objects.filter(state="done")} == {c.pk for c in good}
    bad.refresh_from_db()
    assert (bad.state, bad.last_error) == ("pending", f"RuntimeError: chore {bad.pk} failed on purpose")
    assert ChoreEffect.objects.count() == 2


@pytest.mark.django_db
def test_a_handler_that_completes_its_own_row_writes_its_result_with_the_completion_and_is_counted_once():
    """``complete(row, **values)`` inside the handler (its own transaction, its result columns with it): one UPDATE,
    and ``process`` counts the row done without a second completion; a handler whose completion found the claim
    lost leaves the row to its new holder, and ``process`` counts it lost."""
    from django.test.utils import CaptureQueriesContext

    mine, taken = chores(2)

    def handler(row):
        if row.pk == taken.pk:  # another worker took this one over meanwhile
            Chore.objects.filter(pk=row.pk).update(claim_token="someone-else")
        assert complete(row, payload="done by handler") is (row.pk == mine.pk)

    with CaptureQueriesContext(connection) as queries:
        result = process(Chore, handler, "w1", limit=10)
    assert (result.done, result.failed, result.lost) == (1, 0, 1)
    completions = [q for q in queries if q["sql"].startswith("UPDATE") and "'done'" in q["sql"]]
    # the handler's two, and process()'s own try for the row taken over only: none again for the one done
    assert len(completions) == 2 + 1
    mine.refresh_from_db()
    assert (mine.state, mine.payload, mine.claim_token) == ("done", "done by handler", "")
    taken.refresh_from_db()
    assert (taken.state, taken.payload, taken.claim_token) == ("claimed", "ok", "someone-else")


@pytest.mark.django_db
def test_status_command_lists_registered_models():
    chores(2)
    out = io.StringIO()
    call_command("durable", "status", stdout=out)
    assert "durable_test.chore (queue default): pending 2, claimed 0, done 0, dead 0" in out.getvalue()


def test_settings_and_procfile_give_each_queue_its_own_worker():
    assert settings.TASKS["default"]["QUEUES"] == ["default", "notifications", "vendors"]
    procfile = (settings.BASE_DIR / "Procfile").read_text()
    for queue in settings.TASKS["default"]["QUEUES"]:
        assert re.search(
            rf"^\w+: .*db_worker --no-reload --queue-name {queue}( --interval [0-9.]+)?$", procfile, re.M
        ), queue
    assert "--queue-name '*'" not in procfile
    # A vendor's resolution reaches the requester through the vendors and then the notifications queue: their
    # workers look for work more often than the default second, or the two waits would be most of that time.
    for queue in ("notifications", "vendors"):
        assert re.search(rf"--queue-name {queue} --interval 0\.2$", procfile, re.M), queue


@pytest.mark.django_db(transaction=True)
def test_drain_enqueues_on_the_processors_queue_and_a_worker_processes_the_rows(monkeypatch):
    monkeypatch.setitem(
        durable.PROCESSORS, "durable_test.chore", durable.Processor(Chore, handle_chore, "vendors", batch_size=2)
    )
    assert durable.drain() == []  # nothing due, nothing enqueued
    chores(5)
    assert durable.drain() == ["durable_test.chore"]
    assert durable.drain() == []  # the first task has not run yet: no pile-up
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="default")
    assert ChoreEffect.objects.count() == 0  # the task waits on its own queue
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="vendors")
    assert set(Chore.objects.values_list("state", flat=True)) == {"done"}
    assert ChoreEffect.objects.count() == 5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_claim_is_taken_over_and_each_row_completes_exactly_once(tmp_path):
    rows = chores(3, payload="block", next_attempt_at=datetime.now(UTC))
    gate = tmp_path / "gate"
    command = ["durable", "process", "durable_test.chore"]
    first = start_kompass(
        *command, "--worker-id", "doomed", "--lease-seconds", "2", log=tmp_path / "a.log", DURABLE_TEST_GATE=str(gate)
    )
    try:
        wait_for(lambda: (tmp_path / "gate.started").exists(), timeout=30, message="the first worker to start a row")
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL
        assert set(Chore.objects.values_list("state", "claimed_by")) == {("claimed", "doomed")}
        assert ChoreEffect.objects.count() == 0

        gate.touch()
        wait_for(
            lambda: not Chore.objects.filter(lease_expires_at__gte=datetime.now(UTC)).exists(),
            message="the killed worker's leases to expire",
        )
        second = start_kompass(*command, "--worker-id", "rescuer", log=tmp_path / "b.log", DURABLE_TEST_GATE=str(gate))
        assert second.wait(timeout=60) == 0, (tmp_path / "b.log").read_text()
        assert "3 done, 0 failed, 0 lost" in (tmp_path / "b.log").read_text()
    finally:
        stop(first, signal.SIGKILL)
    for row in rows:
        row.refresh_from_db()
        assert (row.state, row.claimed_by, row.attempts) == ("done", "rescuer", 2)
        assert row.effects.count() == 1
    assert ChoreEffect.objects.count() == 3


@pytest.mark.django_db
def test_admin_action_retries_only_the_selected_dead_rows(client):
    from kompass.core.models import User

    user = User.objects.create_superuser(email="root@test.example", password="x-very-long-password")
    client.force_login(user)
    dead, other_dead = chores(2, state=State.DEAD, attempts=8)
    (pending,) = chores(1)
    response = client.post(
        "/django-admin/durable_test/chore/",
        {"action": "retry_dead_rows", "_selected_action": [dead.pk, pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Chore.objects.get(pk=dead.pk).state == "pending"
    assert Chore.objects.get(pk=other_dead.pk).state == "dead"
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["1 død rad venter igjen."]  # bokmål by default


@pytest.mark.django_db
def test_kick_enqueues_processing_on_the_models_queue_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    from kompass.core.tasks import process_durable

    enqueued = []
    monkeypatch.setattr(
        type(process_durable), "enqueue", lambda task, *args: enqueued.append((task.queue_name, args)), raising=True
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        chores(1)
        durable.kick(Chore)
    assert enqueued == []  # not before the commit
    for callback in callbacks:
        callback()
    assert enqueued == [("default", ("durable_test.chore",))]


@pytest.mark.django_db
def test_a_kick_adds_no_task_while_one_is_still_waiting(django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from kompass.core.tasks import process_durable

    waiting = DBTaskResult.objects.filter(task_path=process_durable.module_path)
    for _ in range(3):  # three commits in a burst (three pushes, three notifications)
        with django_capture_on_commit_callbacks(execute=True):
            chores(1)
            durable.kick(Chore)
    assert waiting.filter(status="READY").count() == 1  # it will see all three rows when it starts
    waiting.update(status="RUNNING")  # a worker started it: it may have claimed before the next row
    with django_capture_on_commit_callbacks(execute=True):
        chores(1)
        durable.kick(Chore)
    assert waiting.filter(status="READY").count() == 1 and waiting.count() == 2


def kicking_handler(tasks):
    """A handler that commits a row of another kind and kicks it (as a vendor update does its notifications), and
    the number of waiting ``tasks`` it saw after each commit."""
    during = []

    def handler(row):
        with transaction.atomic():
            Chore.objects.create(payload="follow-up", next_attempt_at=later(3600 * 24 * 3650))
            durable.kick(Chore)
        during.append(tasks.count())

    return handler, during


@pytest.mark.django_db(transaction=True)
def test_the_kicks_of_a_batchs_handlers_ask_for_one_task_after_the_batch(monkeypatch):
    """Each handler commits a row of another model and kicks it (a vendor update's notifications): one check for a
    waiting task when the batch is done, not one per commit, and the task is there for the rows of every commit."""
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from kompass.core.tasks import process_durable

    monkeypatch.setattr(durable, "KICK_DEFER_SECONDS", 3600)  # however slow the machine: the batch's end first
    tasks = DBTaskResult.objects.filter(task_path=process_durable.module_path, status="READY")
    chores(3)
    handler, during = kicking_handler(tasks)

    with CaptureQueriesContext(connection) as queries:
        assert process(Chore.objects.filter(payload="ok"), handler, "w1", limit=10).done == 3
    checks = [q for q in queries if q["sql"].startswith('SELECT "django_tasks_database_dbtaskresult"."args_kwargs"')]
    assert during == [0, 0, 0]  # no task asked for while the batch ran ...
    assert len(checks) == 1  # ... one check after it ...
    assert [task.args_kwargs["args"] for task in tasks] == [["durable_test.chore"]]  # ... one task, for all 3
    with transaction.atomic():  # outside a batch, a kick still asks right after its commit
        durable.kick(Chore)
    assert tasks.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_kick_held_back_in_a_long_batch_is_made_once_it_has_waited_its_time(monkeypatch):
    """A batch's first rows do not wait for all of it: once the first held-back kick has waited KICK_DEFER_SECONDS
    (here: at once), the next commit asks for a task."""
    from django_tasks_db.models import DBTaskResult

    from kompass.core.tasks import process_durable

    monkeypatch.setattr(durable, "KICK_DEFER_SECONDS", 0)
    tasks = DBTaskResult.objects.filter(task_path=process_durable.module_path, status="READY")
    chores(3)
    handler, during = kicking_handler(tasks)

    assert process(Chore.objects.filter(payload="ok"), handler, "w1", limit=10).done == 3
    assert during == [1, 1, 1]  # asked for after the first commit, and not piled up after the others
    assert tasks.count() == 1


def test_a_processor_on_an_unknown_queue_is_refused_at_import():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="'mail' is not one of"):
        durable.processor(Chore, queue="mail")


@pytest.mark.django_db
def test_process_renews_a_lease_only_once_less_than_half_of_it_is_left(monkeypatch):
    """A fast batch costs no renewal per row (no other worker can take a row whose lease has not run out); a
    slow one renews each row whose lease is more than half gone before running it."""
    from django.utils import timezone

    clock = [timezone.now()]
    monkeypatch.setattr(durable.timezone, "now", lambda: clock[0])
    renewed, real = [], durable.renew
    monkeypatch.setattr(durable, "renew", lambda row, **kw: renewed.append(row.pk) or real(row, **kw))

    def slow(row):
        clock[0] += timedelta(seconds=100)

    first = chores(4)
    assert process(Chore, lambda row: None, "w", lease_seconds=300, limit=4).done == 4
    assert renewed == []  # a fast batch: every lease is fresh
    second = chores(4)
    assert process(Chore, slow, "w", lease_seconds=300, limit=4).done == 4
    # rows 1 and 2 start with 300 and 200 s of their lease left, rows 3 and 4 with 100 and 0 s: renewed
    assert renewed == [second[2].pk, second[3].pk]
    assert Chore.objects.filter(pk__in=[c.pk for c in first + second], state="done").count() == 8


@pytest.mark.django_db
def test_a_full_batch_asks_for_a_second_worker_and_a_partial_one_does_not():
    """A backlog (a full batch claimed) enqueues one more processing task, so a free worker of the queue claims
    the next batch beside this one; the last, partial batch of the burst asks for nobody."""
    from django_tasks_db.models import DBTaskResult

    from kompass.core.tasks import process_durable

    durable.autodiscover()
    entry = durable.PROCESSORS["durable_test.chore"]
    waiting = DBTaskResult.objects.filter(task_path=process_durable.module_path, status="READY")
    chores(entry.batch_size - 1)
    assert entry.run("w1").done == entry.batch_size - 1
    assert waiting.count() == 0
    chores(2 * entry.batch_size + 1)
    assert entry.run("w1").done == 2 * entry.batch_size + 1  # alone here, it works the whole backlog through
    assert [task["args"] for task in waiting.values_list("args_kwargs", flat=True)] == [["durable_test.chore"]]


@pytest.mark.django_db
def test_a_run_ends_after_a_batch_that_is_not_full():
    """Rows that trickle in while a run works are left to the task their own kick enqueued: the worker goes back
    to its task queue (which may hold another queue's task) instead of following the trickle."""
    durable.autodiscover()
    entry = durable.PROCESSORS["durable_test.chore"]

    def trickle(chore):
        handle_chore(chore)
        if Chore.objects.count() < 12:
            Chore.objects.create(payload="ok")  # one more row, due now, while the run works

    chores(3)
    result = durable.Processor(Chore, trickle, entry.queue, entry.batch_size).run("w1")
    assert result.done == 3
    assert Chore.objects.filter(state="pending").count() == 3
