"""Helpers for the SLA engine's tests: Oslo wall times and literal UTC expectations."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    """A wall-clock time in Oslo (``fold=1``: the second 02:xx of the autumn night)."""
    return datetime(year, month, day, hour, minute, tzinfo=OSLO, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# The Django app's fixtures: a service, a case of agency alfa, and the notifications seen by the app
# ---------------------------------------------------------------------------------------------

import pytest  # noqa: E402


@pytest.fixture
def service(agencies):
    from kompass.core.models import Service

    return Service.objects.get(name="Brukerstøtte")


@pytest.fixture
def sent(monkeypatch):
    """Every ``notify.send`` call as ``(event, [recipient keys by e-mail], key, context)``."""
    from types import SimpleNamespace

    from kompass.cases import notify

    calls = []

    def send(**kwargs):
        calls.append(kwargs)

    monkeypatch.setattr(notify, "backend", lambda: SimpleNamespace(send=send, deliveries_for=lambda obj: []))
    return calls


@pytest.fixture
def make_case(cast, service, systems):
    from kompass.cases import services
    from kompass.cases.services import ChangeOrigin

    def make(requester="requester", **kwargs):
        user = cast[requester] if isinstance(requester, str) else requester
        kwargs.setdefault("title", "Skriveren virker ikke")
        kwargs.setdefault("service", service)
        return services.create_case(requester=user, origin=ChangeOrigin.by_user(user), **kwargs)

    return make
