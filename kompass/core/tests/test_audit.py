"""The audit trail records who changed which fields from what to what, and shows it."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from kompass.core.models import Agency, RoleAssignment, System
from kompass.core.roles import Role

pytestmark = pytest.mark.django_db


def entries_for(obj):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_pk=str(obj.pk)
    ).order_by("timestamp", "pk")


def test_creating_an_agency_in_the_ui_records_actor_and_fields(client, cast):
    client.force_login(cast["admin"])
    response = client.post(
        reverse("core:agency_create"),
        {"name": "Revisjonsetaten", "short_code": "rev", "kind": "department", "organisation_number": "974760673"},
    )
    assert response.status_code == 302
    agency = Agency.objects.get(short_code="REV")
    (entry,) = entries_for(agency)
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == cast["admin"]
    assert entry.changes_dict["name"] == ["None", "Revisjonsetaten"]


def test_changing_an_agency_records_from_and_to(client, cast, agencies):
    client.force_login(cast["agency_admin"])
    agency = agencies["alfa"]
    response = client.post(
        reverse("core:agency_edit", args=[agency.pk]),
        {"name": "Bydel Alfa Nord", "short_code": "ALFA", "kind": "district", "active": "on"},
    )
    assert response.status_code == 302
    (entry,) = [e for e in entries_for(agency) if e.action == LogEntry.Action.UPDATE and "name" in e.changes_dict]
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == cast["agency_admin"]
    assert entry.changes_dict["name"] == ["Bydel Alfa", "Bydel Alfa Nord"]
    assert "short_code" not in entry.changes_dict  # unchanged fields are not listed


def test_delete_is_recorded(cast, agencies):
    system = System.objects.create(name="Gammelt system", agency=agencies["beta"])
    pk = system.pk
    system.delete()
    entry = LogEntry.objects.filter(object_pk=str(pk), action=LogEntry.Action.DELETE).get()
    assert entry.object_repr == "Gammelt system"


def test_role_changes_are_audited_without_passwords(client, cast, agencies):
    client.force_login(cast["admin"])
    target = cast["noroles"]
    response = client.post(
        reverse("core:user_detail", args=[target.pk]), {"role": Role.SYSTEM_OWNER, "agency": agencies["beta"].pk}
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=target, role=Role.SYSTEM_OWNER)
    assert entries_for(assignment).get().actor == cast["admin"]
    target.set_password("a-new-secret-password")
    target.save()
    for entry in entries_for(target):
        assert "password" not in entry.changes_dict


def test_history_is_shown_on_the_object_page(client, cast, agencies):
    client.force_login(cast["admin"])
    agency = agencies["gamma"]
    client.post(
        reverse("core:agency_edit", args=[agency.pk]),
        {"name": "Gammaetaten", "short_code": "GAMMA", "kind": "company", "active": "on"},
    )
    body = client.get(reverse("core:agency_detail", args=[agency.pk])).content.decode()
    assert 'id="history-heading"' in body
    assert "Test admin" in body  # who
    assert "Municipal company" in body or "Kommunalt foretak" in body  # to what (display value)


def test_audit_view_filters(client, cast, agencies):
    client.force_login(cast["agreement"])
    Agency.objects.filter(pk=agencies["beta"].pk).first().delete()
    url = reverse("core:audit_log")
    body = client.get(url, {"action": "2"}).content.decode()
    assert "Bydel Beta" in body
    assert "Bydel Alfa" not in body
    body = client.get(url, {"q": "Alfa"}).content.decode()
    assert "Bydel Alfa" in body and "Bydel Beta" not in body
    agency_type = ContentType.objects.get_for_model(Agency).pk
    body = client.get(url, {"type": agency_type, "action": "0"}).content.decode()
    assert "Gammaetaten" in body and "System " not in body
    # Bad filter values change nothing and don't crash.
    assert client.get(url, {"type": "x; drop", "action": "9"}).status_code == 200


def test_history_is_readable(client, cast, agencies):
    """Reverse relations are not listed as changes; m2m changes and booleans read as words."""
    client.force_login(cast["admin"])
    agency = agencies["alfa"]
    client.post(
        reverse("core:agency_edit", args=[agency.pk]),
        {"name": "Bydel Alfa", "short_code": "ALFA", "kind": "district"},  # services cleared, deactivated
    )
    body = client.get(reverse("core:agency_detail", args=[agency.pk])).content.decode()
    history = body[body.index('id="history-heading"') :]
    assert "RoleAssignment.None" not in history and "System.None" not in history
    assert "Brukerstøtte" in history  # the removed service, by name
    assert "operation" not in history and "objects" not in history
    assert "True" not in history and "None" not in history


def test_every_audited_model_leaves_out_every_reverse_relation():
    """A reverse relation in an audit diff costs a query per save and broke the contract page's history (a 500)
    when another app added one to a model whose exclude list was kept by hand: every app's registrations must
    find them with ``reverse_relations()`` (or name their fields with ``include_fields``)."""
    from auditlog.registry import auditlog

    from kompass.core.audit import reverse_relations

    recorded = {
        f"{model._meta.label}.{name}"
        for model, options in auditlog._registry.items()
        if not options.get("include_fields")
        for name in set(reverse_relations(model)) - set(options.get("exclude_fields") or ())
    }
    assert recorded == set()


def _entry_as_auditlog_writes_it(obj, differ):
    """The entry of ``obj`` with the values of the fields in ``differ`` (its own key, its unique names) named
    instead of given, so the entries of two objects that differ only there compare equal."""
    (entry,) = entries_for(obj)
    changes = {name: (["None", "<own>"] if name in differ else value) for name, value in entry.changes_dict.items()}
    return {
        "changes": changes,
        "own": {name: entry.changes_dict[name][1] for name in differ if name in entry.changes_dict},
        "action": entry.action,
        "actor": entry.actor_id,
        "object_id": entry.object_id == obj.pk,
        "object_repr": entry.object_repr == str(obj),
        "serialized_data": entry.serialized_data,
        "additional_data": entry.additional_data,
        "remote_addr": entry.remote_addr,
        "changes_text": entry.changes_text,
    }


@pytest.mark.parametrize("audited_off", [False, True])
def test_save_created_writes_the_entry_auditlogs_receiver_writes(cast, agencies, audited_off):
    """``core.audit.save_created`` (a new row's entry from the row in memory) writes what auditlog's ``post_save``
    receiver writes for the same row: the same fields from "None", the actor, the signals; and nothing at all
    when auditing is turned off."""
    from contextlib import nullcontext

    from auditlog.context import disable_auditlog, set_actor
    from auditlog.signals import post_log, pre_log

    from kompass.core import audit
    from kompass.core.models import Service

    heard = []

    def listen(signal_name):
        return lambda sender, **kw: heard.append((signal_name, sender, kw.get("action"), kw.get("log_created")))

    on_pre, on_post = listen("pre"), listen("post")
    pre_log.connect(on_pre)
    post_log.connect(on_post)
    try:
        with set_actor(cast["admin"], remote_addr="10.0.0.1"), disable_auditlog() if audited_off else nullcontext():
            by_receiver = [
                Agency(name="Etat én", short_code="ETA", kind="department", organisation_number="974760673"),
                Service(name="Tjeneste én", description="", delivery=Service.Delivery.VENDOR, vendor_name="Lev"),
            ]
            by_us = [
                Agency(name="Etat to", short_code="ETB", kind="department", organisation_number="974760673"),
                Service(name="Tjeneste to", description="", delivery=Service.Delivery.VENDOR, vendor_name="Lev"),
            ]
            for obj in by_receiver:
                obj.save()
            heard_by_receiver, heard[:] = list(heard), []
            for obj in by_us:
                audit.save_created(obj)
    finally:
        pre_log.disconnect(on_pre)
        post_log.disconnect(on_post)
    assert heard == heard_by_receiver
    for theirs, ours in zip(by_receiver, by_us, strict=True):
        assert type(ours).objects.filter(pk=ours.pk).exists()
        if audited_off:
            assert not entries_for(ours).exists() and not entries_for(theirs).exists()
            continue
        differ = {"id", "name", "short_code"}
        expected, got = _entry_as_auditlog_writes_it(theirs, differ), _entry_as_auditlog_writes_it(ours, differ)
        assert got["own"] == {name: str(getattr(ours, name)) for name in got["own"]}
        assert {k: v for k, v in got.items() if k != "own"} == {k: v for k, v in expected.items() if k != "own"}
        assert got["actor"] == cast["admin"].pk and got["changes"]
    if not audited_off:
        assert [(name, action, created) for name, _sender, action, created in heard] == [
            ("pre", LogEntry.Action.CREATE, None),
            ("post", LogEntry.Action.CREATE, True),
        ] * 2
