"""My settings: optional events are switchable per channel, mandatory ones are shown on and stay on."""

import re

import pytest

from kompass.core.models import NotificationPreference
from kompass.notifications.tests.conftest import OPTIONAL

pytestmark = pytest.mark.django_db


def test_my_settings_shows_a_mandatory_event_checked_and_disabled(clients, optional_event):
    page = clients("requester").get("/settings/").content.decode()
    (mandatory,) = re.findall(r'<input[^>]*name="notify__notifications.test__email"[^>]*>', page)
    assert "checked" in mandatory and "disabled" in mandatory
    (optional,) = re.findall(rf'<input[^>]*name="notify__{OPTIONAL}__email"[^>]*>', page)
    assert "checked" in optional and "disabled" not in optional


def test_switching_off_works_for_optional_events_only(clients, cast, optional_event):
    user = cast["requester"]
    response = clients("requester").post(
        "/settings/",
        {"language": "nb", f"notify__{OPTIONAL}__portal": "on"},  # email of both unchecked
    )
    assert response.status_code == 302
    saved = {
        (p.event, p.channel): p.enabled
        for p in NotificationPreference.objects.filter(user=user, event__startswith="tests.")
    }
    assert saved == {(OPTIONAL, "email"): False, (OPTIONAL, "portal"): True}
