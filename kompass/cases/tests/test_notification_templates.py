"""Every event the cases app declares has its subject, text and HTML templates, and they render in both languages."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from kompass.core import notifications

EVENTS = [e.key for e in notifications.events() if e.key.startswith("cases.")]
CONTEXT = {
    "case_number": "KOM-2026-000001",
    "case_title": "Skriver <b>",
    "author": "Servicedesk",
    "reply_text": "Vi ser på det.",
    "resolution": "Byttet toner.",
    "links": {"solved": "/cases/answer/a/", "not_solved": "/cases/answer/b/"},
    "site_url": "https://kompass.example",
}


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("language", ["nb", "en"])
def test_each_event_renders(event, language):
    name = event.removeprefix("cases.")
    with translation.override(language):
        subject = render_to_string(f"cases/notifications/{name}.subject.txt", CONTEXT).strip()
        text = render_to_string(f"cases/notifications/{name}.txt", CONTEXT)
        html = render_to_string(f"cases/notifications/{name}.html", CONTEXT)
    assert subject and "\n" not in subject and text.strip() and html.strip()
    assert "<b>" not in html  # escaped
    if name == "resolved":
        assert (
            "https://kompass.example/cases/answer/a/" in text
            and 'href="https://kompass.example/cases/answer/b/"' in html
        )
    if language == "nb" and name == "received":
        assert "mottatt" in subject


def test_nine_events_are_declared():
    assert len(EVENTS) == 9
