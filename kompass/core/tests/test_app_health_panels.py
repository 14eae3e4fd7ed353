"""Core's registries for apps: summaries on /healthz (one failing fails it) and page slots (core/panels.py)."""

import pytest

from kompass.core import health, panels


@pytest.fixture
def isolated(monkeypatch):
    monkeypatch.setattr(health, "_checks", {})
    monkeypatch.setattr(panels, "_slots", {})


@pytest.mark.django_db
def test_healthz_shows_each_app_summary_and_fails_when_one_is_failing(client, isolated):
    health.register("alpha", lambda: {"status": "ok", "backlog": 0})
    health.register("beta", lambda: {"status": "attention", "dead": 2})
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["apps"]["alpha"] == {"status": "ok", "backlog": 0}
    assert body["apps"]["beta"]["status"] == "attention"  # attention is shown, it does not fail the check

    def broken():
        raise RuntimeError("boom")

    health.register("gamma", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "failing" and response.json()["failing"] == ["gamma"]
    assert "boom" not in response.content.decode()  # no error texts without a log-in


def test_the_registered_apps_are_vendors_and_notifications():
    assert {"vendors", "notifications"} <= set(health._checks)
    assert any(r.__module__ == "kompass.vendors.panels" for r in panels.renderers("case_detail"))


def test_a_panel_slot_renders_in_order_and_skips_a_failing_or_empty_renderer(isolated):
    def second(request, obj):
        return f"<p>second {obj}</p>"

    def empty(request, obj):
        return None

    panels.register("page", second, order=20)
    panels.register("page", empty, order=5)
    panels.register("page", second, order=20)  # registering again (a second autodiscovery) replaces it

    def broken(request, obj):
        raise RuntimeError("boom")

    panels.register("page", broken, order=1)

    @panels.panel("page", order=10)
    def first(request, obj):
        return "<p>first</p>"

    assert str(panels.render("page", None, 7)) == "<p>first</p>\n<p>second 7</p>"
    assert str(panels.render("nothing", None, 7)) == ""
