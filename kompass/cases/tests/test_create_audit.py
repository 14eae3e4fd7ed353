"""A new case's audit entry is built from the case in memory (``core.audit.save_created``), and says exactly what
auditlog's own ``post_save`` receiver says of the same case: every audited field from "None", the actor."""

from datetime import UTC, datetime

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from kompass.cases import services
from kompass.cases.models import Case
from kompass.cases.services import ChangeOrigin
from kompass.core import audit

pytestmark = pytest.mark.django_db


def _entry(case):
    (entry,) = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Case), object_pk=str(case.pk))
    changes = dict(entry.changes_dict)
    own = {name: changes.pop(name) for name in ("id", "number")}
    assert own == {"id": ["None", str(case.pk)], "number": ["None", case.number]}
    return {
        "changes": changes,
        "action": entry.action,
        "actor": entry.actor_id,
        "repr": entry.object_repr == str(case),
        "object_id": entry.object_id == case.pk,
        "serialized_data": entry.serialized_data,
        "additional_data": entry.additional_data,
        "remote_addr": entry.remote_addr,
    }


def test_a_new_cases_entry_is_the_one_auditlog_writes(cast, service, systems, monkeypatch):
    monkeypatch.setattr(services, "_now", lambda: datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC))

    def create():
        with set_actor(cast["desk"], remote_addr="10.1.2.3"):
            return services.create_case(
                requester=cast["requester"],
                service=service,
                system=systems["alfa"],
                title="Skriveren i 2. etasje",
                description="Papirstopp.",
                category="Utskrift",
                impact=2,
                urgency=1,
                origin=ChangeOrigin.by_user(cast["desk"]),
            )

    ours = create()
    with monkeypatch.context() as m:  # auditlog's own receiver, on the insert itself
        m.setattr(audit, "save_created", lambda obj, **kwargs: obj.save(**kwargs))
        theirs = create()
    assert _entry(ours) == _entry(theirs)
    got = _entry(ours)
    assert got["actor"] == cast["desk"].pk and got["action"] == LogEntry.Action.CREATE
    assert got["changes"]["title"] == ["None", "Skriveren i 2. etasje"]
    assert got["changes"]["created"] == ["None", "2026-12-03 09:30:15.123456"]
    assert got["changes"]["responded_at"] == ["None", "None"]  # auditlog's way with an empty date: kept
    assert "updated" not in got["changes"] and "response_due" not in got["changes"]
