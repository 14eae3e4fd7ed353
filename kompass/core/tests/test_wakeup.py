"""An idle task worker is woken by the enqueue itself (PostgreSQL NOTIFY), not by the end of its ``--interval``."""

import threading
import time

import psycopg
import pytest
from django.core.management import get_commands
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from kompass.core import wakeup
from kompass.core.management.commands import db_worker
from kompass.core.models import Heartbeat
from kompass.core.tasks import worker_heartbeat
from kompass.core.tests.processes import database_url, start_kompass, stop, wait_for

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")


def notify_later(payload: str, after: float = 0.2) -> threading.Thread:
    """Send the worker's notification from a connection of its own, as another process's enqueue would."""

    def send():
        time.sleep(after)
        with psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=True) as other:
            other.execute("SELECT pg_notify(%s, %s)", [wakeup.CHANNEL, payload])

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_kompass_db_worker_is_the_waking_one():
    assert get_commands()["db_worker"] == "kompass.core"
    from django_tasks_db.management.commands import db_worker as upstream

    assert issubclass(db_worker.Command, upstream.Command)
    with db_worker.waking_sleep(["vendors"]) as listener:
        assert upstream.time.sleep.__self__._listener is listener  # the loop's time.sleep is the listener's
        assert upstream.time.monotonic is time.monotonic  # and the rest of time is time
    assert upstream.time is time


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_notification_for_one_of_its_queues_ends_the_sleep_and_one_for_another_queue_does_not():
    listener = wakeup.Listener(["vendors", "notifications"]).start()
    try:
        sender = notify_later("notifications")
        started = time.monotonic()
        listener.sleep(20)
        assert time.monotonic() - started < 10  # woken, not the 20 s
        sender.join()
        sender = notify_later("default")
        started = time.monotonic()
        listener.sleep(1.5)
        assert time.monotonic() - started >= 1.4  # another queue's task: slept on
        sender.join()
    finally:
        listener.close()


@postgresql
@pytest.mark.django_db(transaction=True)
def test_an_enqueue_notifies_when_its_transaction_commits_and_not_if_it_rolls_back():
    listener = wakeup.Listener(["default"]).start()
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            worker_heartbeat.enqueue("rolled back", "default")
            raise RuntimeError
        started = time.monotonic()
        listener.sleep(1.5)
        assert time.monotonic() - started >= 1.4  # the rolled-back enqueue woke nobody
        worker_heartbeat.enqueue("committed", "default")
        started = time.monotonic()
        listener.sleep(20)
        assert time.monotonic() - started < 10
    finally:
        listener.close()


@pytest.mark.django_db
def test_without_postgresql_the_listener_just_sleeps(monkeypatch):
    monkeypatch.setattr(wakeup, "_database", lambda: type("Db", (), {"vendor": "sqlite"})())
    listener = wakeup.Listener(["default"]).start()
    started = time.monotonic()
    listener.sleep(0.3)
    assert time.monotonic() - started >= 0.29
    assert listener._connection is None


@postgresql
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_idle_worker_with_a_long_interval_runs_a_new_task_at_once(tmp_path):
    worker = start_kompass(
        "db_worker", "--queue-name", "default", "--interval", "120", "--no-reload", "--no-startup-delay",
        log=tmp_path / "worker.log",
    )  # fmt: skip
    try:
        wait_for(lambda: "Starting worker" in (tmp_path / "worker.log").read_text(), timeout=30, message="worker")
        time.sleep(1)  # it has looked for tasks, found none, and sleeps its 120 s
        result = worker_heartbeat.enqueue("now", "default")
        wait_for(
            lambda: DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL",
            timeout=30,
            message="the task, well before the worker's 120 s interval",
        )
        assert Heartbeat.objects.filter(name="worker", detail="sent now").exists()
    finally:
        assert stop(worker) == 0
