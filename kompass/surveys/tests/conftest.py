import datetime as dt

import pytest

from kompass.core.models import RoleAssignment, User
from kompass.core.roles import Role
from kompass.surveys import services

TODAY = dt.date(2026, 3, 2)  # the first working day of March 2026


@pytest.fixture
def template(db):
    return services.default_template()


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(services, "_today", lambda: TODAY)
    return TODAY


@pytest.fixture
def people(agencies):
    """``people(agency_key, role, n)``: n new active users holding ``role`` for that agency."""
    made = []

    def _make(key, role=Role.AGENCY_IT_CONTACT, n=1):
        users = []
        for _i in range(n):
            user = User.objects.create_user(f"p{len(made)}@test.example", "x", full_name=f"Person {len(made)}")
            RoleAssignment.objects.create(user=user, role=role, agency=agencies[key])
            made.append(user)
            users.append(user)
        return users

    return _make


@pytest.fixture
def issued(monkeypatch):
    """The raw links sent, by recipient e-mail (captured from the notification context)."""
    from kompass.notifications import services as notifications

    links = {}
    real_send = notifications.send

    def capture(**kwargs):
        if kwargs["event"] in ("surveys.invitation", "surveys.reminder"):
            for person in kwargs["recipients"]:
                links[person.email] = kwargs["context"]["url"].rstrip("/").rsplit("/", 1)[-1]
        return real_send(**kwargs)

    monkeypatch.setattr(notifications, "send", capture)
    return links


@pytest.fixture
def open_campaign(template, cast, today, issued):
    campaign = services.create_campaign(template, period=dt.date(2026, 2, 1))
    services.open_campaign(campaign)
    campaign.refresh_from_db()
    return campaign


def answer_all(client, token, template, value="4", **extra):
    data = {f"q{q.pk}": value for q in template.questions.filter(kind="rating")}
    data.update(extra)
    data["submit"] = "1"
    return client.post(services.answer_url(token), data)
