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
def test_scheduler_and_real_worker_produce_heartbeats(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    call_command("scheduler", once=True)
    assert Heartbeat.objects.filter(name="scheduler").exists()
    assert not Heartbeat.objects.filter(name="worker").exists()  # queued, not yet run
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="*")
    body = client.get("/healthz").json()
    assert body["worker"]["status"] == "ok"
    assert body["scheduler"]["status"] == "ok"


@pytest.mark.django_db
def test_stale_heartbeat_is_reported(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    Heartbeat.objects.create(name="worker", seen=timezone.now() - timedelta(hours=1))
    body = client.get("/healthz").json()
    assert body["worker"]["status"] == "stale"
    assert client.get("/healthz").status_code == 200
