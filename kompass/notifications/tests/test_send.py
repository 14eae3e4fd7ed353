"""services.send: the ledger rows it writes (idempotent, in the caller's transaction, respecting choices)."""

import pytest
from django.db import transaction

from kompass.core.models import NotificationPreference
from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.models import Delivery
from kompass.notifications.tests.conftest import OPTIONAL

pytestmark = pytest.mark.django_db


def _send(recipients, key="k:1", event=TEST_EVENT, **kwargs):
    return notifications.send(
        event=event, recipients=recipients, template=TEST_TEMPLATE, context={"note": "n"}, key=key, **kwargs
    )


def test_it_writes_one_row_per_recipient_and_channel(cast, agencies):
    rows = _send([cast["requester"], cast["it_contact"]], obj=agencies["alfa"])
    assert [(r.recipient.email, r.channel) for r in rows] == [
        (cast["requester"].email, "email"),
        (cast["requester"].email, "portal"),
        (cast["it_contact"].email, "email"),
        (cast["it_contact"].email, "portal"),
    ]
    email = rows[0]
    assert email.state == Delivery.State.PENDING
    assert email.address == cast["requester"].email
    assert email.language == cast["requester"].language
    assert email.obj == agencies["alfa"]
    assert email.context == {"note": "n"}
    assert rows[1].address == ""


def test_the_same_key_twice_is_one_row(cast):
    first = _send([cast["requester"]], key="case:1:resolved:9")
    second = _send([cast["requester"]], key="case:1:resolved:9")
    assert [r.pk for r in first] == [r.pk for r in second]
    assert Delivery.objects.count() == 2
    _send([cast["requester"]], key="case:1:resolved:10")
    assert Delivery.objects.count() == 4


def test_a_rolled_back_transaction_writes_nothing_and_sends_nothing(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _send([cast["requester"]])
            assert Delivery.objects.count() == 2
            raise RuntimeError("the caller failed")
    assert Delivery.objects.count() == 0
    assert callbacks == []


def test_a_commit_asks_the_notifications_worker(cast, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _send([cast["requester"]])
    assert len(callbacks) == 1
    task = DBTaskResult.objects.get()
    assert task.queue_name == "notifications"
    assert task.args_kwargs["args"] == ["notifications.delivery"]


def test_no_kick_when_every_row_existed(cast, django_capture_on_commit_callbacks):
    _send([cast["requester"]])
    with django_capture_on_commit_callbacks() as callbacks:
        _send([cast["requester"]])
    assert callbacks == []


def test_preferences_are_respected(cast, optional_event):
    user = cast["requester"]
    NotificationPreference.objects.create(user=user, event=OPTIONAL, channel="email", enabled=False)
    rows = _send([user], event=OPTIONAL)
    assert [r.channel for r in rows] == ["portal"]


def test_an_event_off_by_default_sends_nothing_without_a_choice(cast):
    from kompass.core import notifications as events

    events.declare("tests.notifications.off", "Off by default", channels=("email",), default=False)
    try:
        assert _send([cast["requester"]], event="tests.notifications.off") == []
    finally:
        events._events.pop("tests.notifications.off")


def test_a_mandatory_event_cannot_be_switched_off(cast):
    user = cast["requester"]
    NotificationPreference.objects.create(user=user, event=TEST_EVENT, channel="email", enabled=False)
    NotificationPreference.objects.create(user=user, event=TEST_EVENT, channel="portal", enabled=False)
    assert [r.channel for r in _send([user])] == ["email", "portal"]


def test_channels_narrow_the_event(cast):
    assert [r.channel for r in _send([cast["requester"]], channels=["portal"])] == ["portal"]


def test_inactive_recipients_get_nothing(cast):
    user = cast["requester"]
    user.is_active = False
    user.save()
    assert _send([user]) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": "nobody.declared"}, "Unknown notification event"),
        ({"channels": ["sms"]}, "has no channel"),
        ({"key": ""}, "idempotency key"),
        ({"key": "x" * 201}, "idempotency key"),
        ({"context": {"user": object()}}, "JSON-serialisable"),
        ({"headers": {"Message-ID": "<x@y>"}}, "set by the ledger"),
        ({"headers": {"Bcc": "spy@example.com"}}, "set by the ledger"),
        ({"headers": {"X-Token": "a\r\nBcc: spy@example.com"}}, "Invalid e-mail header"),
    ],
)
def test_bad_calls_are_refused_and_write_nothing(cast, kwargs, message):
    call = {"event": TEST_EVENT, "recipients": [cast["requester"]], "template": TEST_TEMPLATE, "key": "k"} | kwargs
    with pytest.raises(notifications.NotificationError, match=message):
        notifications.send(**call)
    assert Delivery.objects.count() == 0


def test_deliveries_for_an_object_newest_first(cast, agencies):
    _send([cast["requester"]], key="a", obj=agencies["alfa"], channels=["email"])
    later = _send([cast["requester"]], key="b", obj=agencies["alfa"], channels=["email"])
    _send([cast["requester"]], key="c", obj=agencies["beta"], channels=["email"])
    rows = list(notifications.deliveries_for(agencies["alfa"]))
    assert len(rows) == 2
    assert rows[0].pk == later[0].pk


def test_the_deliveries_include_for_an_object_page(cast, agencies, run_worker):
    from django.template.loader import render_to_string
    from django.utils import translation

    _send([cast["requester"]], key="a", obj=agencies["alfa"])
    assert "Ingen er varslet ennå." in render_to_string(
        "notifications/includes/deliveries.html", {"deliveries": notifications.deliveries_for(agencies["beta"])}
    )
    run_worker()
    with translation.override("nb"):
        html = render_to_string(
            "notifications/includes/deliveries.html", {"deliveries": notifications.deliveries_for(agencies["alfa"])}
        )
    assert html.count(f"{cast['requester']} varslet ") == 2
    assert " på e-post" in html
    assert " i Kompass" in html
