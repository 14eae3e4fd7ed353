import pytest

from kompass.core import notifications as events
from kompass.core.durable import process
from kompass.notifications.durable import deliver

OPTIONAL = "tests.notifications.optional"


@pytest.fixture
def optional_event():
    """A switchable event (the app's own test event is mandatory), removed again afterwards."""
    declared = events.declare(OPTIONAL, "An optional test event", channels=("email", "portal"))
    yield declared
    events._events.pop(OPTIONAL, None)


@pytest.fixture
def run_worker():
    """Process every due delivery once, as the notifications worker would."""

    def run(limit=100):
        from kompass.notifications.models import Delivery

        return process(Delivery, deliver, "test-worker", limit=limit)

    return run
