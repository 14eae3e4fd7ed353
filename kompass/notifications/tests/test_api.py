"""/api/notifications/ (my own, mark read) and /api/notification-deliveries/ (administrators, retry)."""

import pytest

from kompass.core.models import ApiToken, Organisation
from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.models import Delivery, Notification
from kompass.testing.cast import CAST
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db

PEOPLE = {"admin", "agreement", "desk", "kam", "it_contact", "owner", "agency_admin", "requester"}


@pytest.fixture
def world(cast, run_worker):
    Organisation.current()
    for key in PEOPLE:
        notifications.send(event=TEST_EVENT, recipients=[cast[key]], template=TEST_TEMPLATE, key=f"k:{key}")
    run_worker()
    dead = Delivery.objects.get(recipient=cast["requester"], channel="email")
    Delivery.objects.filter(pk=dead.pk).update(state=Delivery.State.DEAD, last_error="boom")
    return {"note": Notification.objects.get(recipient=cast["requester"]), "dead": dead}


def test_access_table(clients, world):
    note, dead = world["note"], world["dead"]
    table = {}
    for role in CAST:
        person = role in PEOPLE
        table[(role, "GET", "/api/notifications/")] = 200 if person else 403
        table[(role, "POST", "/api/notifications/read-all/")] = 200 if person else 403
        table[(role, "GET", f"/api/notifications/{note.pk}/")] = (
            200 if role == "requester" else (404 if person else 403)
        )
        table[(role, "POST", f"/api/notifications/{note.pk}/read/")] = (
            200 if role == "requester" else (404 if person else 403)
        )
        admin = role == "admin"
        table[(role, "GET", "/api/notification-deliveries/")] = 200 if admin else 403
        table[(role, "GET", f"/api/notification-deliveries/{dead.pk}/")] = 200 if admin else 403
        table[(role, "POST", f"/api/notification-deliveries/{dead.pk}/retry/")] = 200 if admin else 403
        # Read-only: no writes through the standard methods, for anyone.
        table[(role, "DELETE", f"/api/notification-deliveries/{dead.pk}/")] = 405 if admin else 403
        table[(role, "POST", "/api/notification-deliveries/")] = 405 if admin else 403
    # An integration account's session is signed out (401); its token is refused (403).
    table = {k: ({"session": 401, "token": 403} if k[0] == "vendor" else v) for k, v in table.items()}
    assert check_access_table(clients, table) == 2 * len(table)


def test_my_notifications_and_mark_read(clients, cast, world):
    api = clients("requester", "token")
    listed = api.get("/api/notifications/").json()
    assert [n["id"] for n in listed["results"]] == [world["note"].pk]
    assert listed["results"][0]["read_at"] is None
    assert api.get("/api/notifications/?unread=true").json()["count"] == 1
    answer = api.post(f"/api/notifications/{world['note'].pk}/read/").json()
    assert answer["read_at"] is not None
    assert api.get("/api/notifications/?unread=true").json()["count"] == 0
    assert notifications.unread_count(cast["owner"]) == 1
    assert clients("owner", "token").post("/api/notifications/read-all/").json() == {"marked": 1}
    assert notifications.unread_count(cast["owner"]) == 0


def test_a_read_only_token_cannot_mark_read(cast, world):
    from django.test import Client

    _token, secret = ApiToken.issue(cast["requester"], "read only", scopes=["notifications:read"])
    api = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/notifications/").status_code == 200
    assert api.post(f"/api/notifications/{world['note'].pk}/read/").status_code == 403
    world["note"].refresh_from_db()
    assert world["note"].read_at is None


def test_the_ledger_api_filters_and_retries(clients, world):
    api = clients("admin", "token")
    dead = api.get("/api/notification-deliveries/?state=dead").json()
    assert [row["id"] for row in dead["results"]] == [world["dead"].pk]
    row = dead["results"][0]
    assert row["last_error"] == "boom"
    assert "context" not in row and "headers" not in row
    assert api.get("/api/notification-deliveries/?channel=portal").json()["count"] == len(PEOPLE)
    assert api.post(f"/api/notification-deliveries/{world['dead'].pk}/retry/").json()["state"] == "pending"
    again = api.post(f"/api/notification-deliveries/{world['dead'].pk}/retry/")
    assert again.status_code == 409
