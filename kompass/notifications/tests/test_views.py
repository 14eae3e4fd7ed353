"""The inbox and the ledger pages, with the access table of every page × role × method."""

import re

import pytest
from django.core import mail

from kompass.core.models import Organisation
from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.models import Delivery, Notification
from kompass.testing.cast import CAST
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db

PEOPLE = ["agreement", "desk", "kam", "it_contact", "owner", "agency_admin", "requester"]


def _notify(user, key, run_worker):
    notifications.send(event=TEST_EVENT, recipients=[user], template=TEST_TEMPLATE, key=key, context={"note": key})
    run_worker()
    return Notification.objects.get(recipient=user, delivery__key=key)


@pytest.fixture
def world(cast, run_worker):
    """One portal notification per person, and one dead and one delivered e-mail in the ledger."""
    Organisation.current()  # created on the first page otherwise, which a refused write must not do
    mine = {key: _notify(cast[key], f"k:{key}", run_worker) for key in [*PEOPLE, "admin"]}
    dead = Delivery.objects.filter(recipient=cast["requester"], channel="email").get()
    Delivery.objects.filter(pk=dead.pk).update(state=Delivery.State.DEAD, last_error="SMTPServerDisconnected: x")
    return {"notifications": mine, "dead": Delivery.objects.get(pk=dead.pk)}


def test_access_table(clients, cast, world):
    requester_note = world["notifications"]["requester"]
    dead = world["dead"]
    table = {}
    for role in CAST:
        person = role in PEOPLE or role == "admin"
        # The inbox: everyone with a role or a home agency; integration accounts and role-less users not.
        table[(role, "GET", "/notifications/")] = 200 if person else (302 if role == "vendor" else 403)
        table[(role, "POST", "/notifications/read-all/")] = 302 if person else (302 if role == "vendor" else 403)
        table[(role, "GET", "/notifications/read-all/")] = 302 if person else (302 if role == "vendor" else 403)
        # Marking the requester's notification read: only the requester (others: not found).
        own = role == "requester"
        expected = 302 if own else (404 if person else (302 if role == "vendor" else 403))
        table[(role, "POST", f"/notifications/{requester_note.pk}/read/")] = expected
        # The ledger: administrators only.
        admin = role == "admin"
        for method, url, ok in [
            ("GET", "/notifications/ledger/", 200),
            ("GET", f"/notifications/ledger/{dead.pk}/", 200),
            ("POST", f"/notifications/ledger/{dead.pk}/retry/", 302),
            ("POST", "/notifications/ledger/test/", 302),
            ("GET", "/notifications/ledger/test/", 302),
        ]:
            table[(role, method, url)] = ok if admin else (302 if role == "vendor" else 403)
    assert check_access_table(clients, table) == len(table)


@pytest.mark.parametrize("url", ["/notifications/", "/notifications/ledger/"])
def test_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_inbox_shows_only_my_notifications_with_the_unread_count(clients, cast, world):
    page = clients("requester").get("/notifications/").content.decode()
    assert "k:requester" in page
    assert "k:it_contact" not in page
    assert '<span class="kp-badge">1<span class="pkt-sr-only"> ulest</span></span>' in page
    assert "1 ulest varsel" in page
    # An administrator's inbox is theirs too (the ledger is where they see everyone's).
    admin_page = clients("admin").get("/notifications/").content.decode()
    assert "k:admin" in admin_page
    assert "k:requester" not in admin_page


def test_mark_one_read_with_htmx_answers_the_list(clients, cast, world):
    note = world["notifications"]["requester"]
    response = clients("requester").post(f"/notifications/{note.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "0 uleste varsler" in response.content.decode()
    note.refresh_from_db()
    assert note.read_at is not None
    assert notifications.unread_count(cast["requester"]) == 0
    assert notifications.unread_count(cast["it_contact"]) == 1  # someone else's is untouched


def test_mark_all_read_touches_only_mine(clients, cast, world, run_worker):
    _notify(cast["requester"], "k:second", run_worker)
    assert notifications.unread_count(cast["requester"]) == 2
    response = clients("requester").post("/notifications/read-all/")
    assert response.status_code == 302
    assert notifications.unread_count(cast["requester"]) == 0
    assert notifications.unread_count(cast["owner"]) == 1


def test_the_unread_filter(clients, cast, world, run_worker):
    services_note = _notify(cast["requester"], "k:read-one", run_worker)
    notifications.mark_read(services_note, user=cast["requester"])
    page = clients("requester").get("/notifications/?unread=true").content.decode()
    assert "k:requester" in page
    assert "k:read-one" not in page


def test_the_ledger_filters(clients, cast, world):
    admin = clients("admin")

    def rows(query):
        return re.findall(
            r'href="/notifications/ledger/(\d+)/"', admin.get(f"/notifications/ledger/?{query}").content.decode()
        )

    assert len(rows("")) == 16
    assert rows("state=dead") == [str(world["dead"].pk)]
    owner_portal = Delivery.objects.get(recipient=cast["owner"], channel="portal")
    assert rows(f"recipient={cast['owner'].email}&channel=portal") == [str(owner_portal.pk)]
    assert rows("event=notifications.") != []
    assert rows("event=cases.") == []
    assert admin.get("/notifications/ledger/?created_after=not-a-date").status_code == 200


def test_retry_a_dead_delivery_from_the_ledger(clients, cast, world, run_worker):
    dead = world["dead"]
    admin = clients("admin")
    assert admin.post(f"/notifications/ledger/{dead.pk}/retry/").status_code == 302
    dead.refresh_from_db()
    assert dead.state == Delivery.State.PENDING
    run_worker()
    assert [m.to for m in mail.outbox if m.extra_headers["X-Kompass-Delivery"] == str(dead.pk)] == [
        [cast["requester"].email]
    ]
    # A delivered row cannot be retried: a clear refusal, nothing changed.
    dead.refresh_from_db()
    response = admin.post(f"/notifications/ledger/{dead.pk}/retry/")
    assert response.status_code == 409
    dead.refresh_from_db()
    assert dead.state == Delivery.State.DONE


def test_an_administrator_sends_a_test_message_to_themself(clients, cast, world, run_worker):
    before = len(mail.outbox)
    assert clients("admin").post("/notifications/ledger/test/").status_code == 302
    run_worker()
    assert [m.to for m in mail.outbox[before:]] == [[cast["admin"].email]]


def test_a_get_of_a_post_only_action_changes_nothing(clients, cast, world):
    assert clients("requester").get("/notifications/read-all/")["Location"] == "/notifications/"
    assert notifications.unread_count(cast["requester"]) == 1
    before = Delivery.objects.count()
    assert clients("admin").get("/notifications/ledger/test/")["Location"] == "/notifications/ledger/"
    assert Delivery.objects.count() == before
