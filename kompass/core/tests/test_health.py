"""/healthz reports the database, the worker and the scheduler; the real worker runs the heartbeat."""

from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.utils import OperationalError

from kompass.core.models import Heartbeat


@pytest.mark.django_db
def test_healthz_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["worker"]["status"] == "unknown"


@pytest.mark.django_db
def test_healthz_503_when_database_unreachable(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["status"] == "unreachable"


@pytest.mark.django_db(transaction=True)
def test_scheduler_and_real_workers_produce_heartbeats(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    call_command("scheduler", once=True)
    assert Heartbeat.objects.filter(name="scheduler").exists()
    assert not Heartbeat.objects.filter(name="worker").exists()  # queued, not yet run
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="default")
    body = client.get("/healthz").json()
    assert body["worker"]["status"] == "ok"
    assert body["scheduler"]["status"] == "ok"
    assert body["workers"] == {
        "default": body["worker"],
        "notifications": {"status": "unknown", "last_seen": None},  # its worker has not run yet
        "vendors": {"status": "unknown", "last_seen": None},
    }
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="notifications,vendors")
    body = client.get("/healthz").json()
    statuses = {queue: beat["status"] for queue, beat in body["workers"].items()}
    assert statuses == dict.fromkeys(settings.TASK_QUEUES, "ok")


@pytest.mark.django_db
def test_healthz_shows_each_jobs_last_and_next_run_and_the_lease_holder(client):
    from datetime import timedelta

    from django.utils import timezone

    from kompass.core import scheduling
    from kompass.core.models import ScheduledJob

    now = timezone.now()
    ScheduledJob.objects.create(
        name="reports.monthly",
        schedule="first working day of the month at 07:00 (Europe/Oslo)",
        last_run_at=now - timedelta(days=3),
        last_status="failed",
        last_error="secret detail",
        last_duration=timedelta(seconds=1.5),
        next_run_at=now + timedelta(days=27),
    )
    scheduling.acquire_lease("host:42:abc", seconds=30)
    body = client.get("/healthz").json()
    (job,) = body["jobs"]
    assert job == {
        "name": "reports.monthly",
        "schedule": "first working day of the month at 07:00 (Europe/Oslo)",
        "last_status": "failed",
        "last_run": (now - timedelta(days=3)).isoformat(),
        "next_run": (now + timedelta(days=27)).isoformat(),
        "last_duration_seconds": 1.5,
    }
    assert "secret detail" not in str(body)
    assert body["scheduler"]["lease"]["holder"] == "host:42:abc"
    scheduling.release_lease("host:42:abc")
    assert client.get("/healthz").json()["scheduler"]["lease"] == {"holder": None, "expires_at": None}


@pytest.mark.django_db
def test_stale_heartbeat_is_reported(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    Heartbeat.objects.create(name="worker", seen=timezone.now() - timedelta(hours=1))
    body = client.get("/healthz").json()
    assert body["worker"]["status"] == "stale"
    assert client.get("/healthz").status_code == 200
