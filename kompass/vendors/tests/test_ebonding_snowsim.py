"""E-bonding against the real ``snowsim serve`` process over HTTPS: create, comments, states, refusals, polling."""

import pytest
from django.utils import timezone, translation

from kompass.cases import services
from kompass.cases.services import ChangeOrigin
from kompass.notifications import services as notifications
from kompass.vendors import reconcile, sync
from kompass.vendors.models import InboxEvent, OutboxMessage, VendorLink

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def requester_events(case, event):
    """The requester's notifications of ``event`` about ``case``: one idempotency key per change (each key may
    go by several channels, e-mail and portal)."""
    return sorted(
        {d.key for d in notifications.deliveries_for(case) if d.event == event and d.recipient_id == case.requester_id}
    )


def linked_case(make_case, worker, **kwargs):
    case = make_case(**kwargs)
    worker()
    link = VendorLink.objects.get(case=case)
    assert link.sync_state == "linked", link.last_error
    return case, link


def poll_and_apply(connection, worker):
    connection.refresh_from_db()
    queued = sync.poll(connection)
    worker()
    return queued


def test_a_routed_case_is_created_at_the_vendor_once_with_its_correlation_id(route, make_case, worker, remote):
    case, link = linked_case(make_case, worker, impact=2, urgency=2)
    record = remote.get(link.sys_id)
    assert record["correlation_id"] == case.number
    assert record["correlation_display"] == f"Kompass {case.number}"
    assert record["impact"] == "2" and record["urgency"] == "2"
    assert link.number.startswith("INC") and link.last_mod_count == 0
    assert len(remote.find(case.number)) == 1
    assert case.notes.filter(text__contains=link.number).exists()  # shown on the case (internal note)


def test_a_create_whose_answer_was_lost_is_looked_up_not_repeated(route, make_case, worker, remote):
    remote.faults(lost_response=1.0)
    case = make_case()
    result = worker(rounds=1)
    assert result.failed == 1
    remote.faults()
    assert len(remote.find(case.number)) == 1  # the POST was committed; only its answer was lost
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    worker()
    link = VendorLink.objects.get(case=case)
    assert link.sync_state == "linked"
    assert len(remote.find(case.number)) == 1
    assert remote.find(case.number)[0]["sys_id"] == link.sys_id


def test_a_public_reply_reaches_the_vendor_once_even_when_the_answer_is_lost(route, make_case, worker, remote, cast):
    case, link = linked_case(make_case, worker)
    services.add_reply(case, "Vi har sjekket kabelen.", origin=ChangeOrigin.by_user(cast["desk"]))
    services.add_note(case, "Intern: ring leverandøren i morgen.", origin=ChangeOrigin.by_user(cast["desk"]))
    remote.faults(lost_response=1.0)
    assert worker(rounds=1).failed == 1
    remote.faults()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    worker()
    comments = [row for row in remote.journal(link.sys_id) if row["element"] == "comments"]
    assert len(comments) == 1 and comments[0]["value"].startswith("Vi har sjekket kabelen.")
    assert "[kompass:reply:" in comments[0]["value"]
    assert not [row for row in remote.journal(link.sys_id) if row["element"] == "work_notes"]  # notes stay internal
    # The comment comes back through the journal: recognised by its marker, not added to the case again.
    poll_and_apply(route.connection, worker)
    assert case.replys.count() == 1


def test_a_vendor_comment_becomes_one_public_reply_and_one_requester_notification(
    route, make_case, worker, remote, connection
):
    case, link = linked_case(make_case, worker)
    updated = remote.patch(link.sys_id, comments="Vi ser på saken.", work_notes="Sjekker loggene.")
    payload = {"sys_id": link.sys_id, "sys_mod_count": updated["sys_mod_count"], "table": "incident"}
    assert sync.record_event(connection, payload, source="webhook", event_id="ev-1")
    assert not sync.record_event(connection, payload, source="webhook", event_id="ev-1")  # a duplicate push
    worker()
    poll_and_apply(connection, worker)  # the poll sees the same change: stale by sys_mod_count and journal sys_id
    case.refresh_from_db()
    replies = list(case.replys.all())
    assert [(r.text, r.origin) for r in replies] == [("Vi ser på saken.", "vendor")]
    assert case.notes.filter(text="Sjekker loggene.").exists()  # vendor work notes stay internal
    assert len(requester_events(case, "cases.replied")) == 1


def test_the_vendor_resolution_resolves_the_case_and_informs_the_requester_once(
    route, make_case, worker, remote, connection
):
    case, link = linked_case(make_case, worker)
    remote.patch(link.sys_id, state="2")
    remote.patch(
        link.sys_id,
        state="6",
        close_code="Solved (Permanently)",
        close_notes="Byttet nettverkskortet.",
        comments="Løst.",
    )
    poll_and_apply(connection, worker)
    poll_and_apply(connection, worker)
    case.refresh_from_db()
    assert case.state == "resolved"
    assert "Byttet nettverkskortet." in case.resolution and "Solved (Permanently)" in case.resolution
    assert len(requester_events(case, "cases.resolved")) == 1
    assert len(requester_events(case, "cases.replied")) == 1


def test_the_caller_reply_from_awaiting_caller_is_seen_in_the_vendors_answer(
    route, make_case, worker, remote, connection, cast
):
    """The integration user's caller comment moves the incident to In Progress in the same update: Kompass
    reads that from the PATCH response (no echo, no blind spot), and sees the next hold again."""
    case, link = linked_case(make_case, worker)
    remote.patch(link.sys_id, state="3", hold_reason="1", comments="Hvilken skriver gjelder det?")
    poll_and_apply(connection, worker)
    case.refresh_from_db()
    assert case.state == "waiting_requester"
    assert len(requester_events(case, "cases.needs_info")) == 1

    services.add_reply(case, "Skriveren i 3. etasje.", origin=ChangeOrigin.by_user(cast["requester"]))
    case.refresh_from_db()
    assert case.state == "in_progress"
    worker()
    record = remote.get(link.sys_id)
    assert record["state"] == "2" and record["sys_updated_by"] == "kompass.integration"
    link.refresh_from_db()
    assert link.synced["state"] == "2" and link.last_mod_count == int(record["sys_mod_count"])
    assert OutboxMessage.objects.filter(link=link, kind="update").count() == 0  # no state echo was sent

    remote.patch(link.sys_id, state="3", hold_reason="1", comments="Og hvilket rom?")
    poll_and_apply(connection, worker)
    case.refresh_from_db()
    assert case.state == "waiting_requester"
    assert len(requester_events(case, "cases.needs_info")) == 2


def test_a_write_to_a_closed_incident_is_refused_shown_and_not_retried(route, make_case, worker, remote, cast):
    case, link = linked_case(make_case, worker)
    remote.patch(link.sys_id, user="admin", state="7", close_code="Solved (Permanently)", close_notes="Ferdig.")
    services.add_reply(case, "Er det fikset?", origin=ChangeOrigin.by_user(cast["desk"]))
    worker()
    message = OutboxMessage.objects.get(link=link, kind="comment")
    assert message.refused and message.state == "done" and message.attempts == 1
    link.refresh_from_db()
    assert link.sync_state == "refused" and "403" in link.last_error
    assert case.notes.filter(text__contains="avviste").exists()
    assert list(sync.dead_letters()) == [message]


def test_agent_state_and_priority_changes_go_out_and_come_back_without_echo(
    route, make_case, worker, remote, connection, cast
):
    case, link = linked_case(make_case, worker)
    desk = ChangeOrigin.by_user(cast["desk"])
    services.change_priority(case, origin=desk, impact=1, urgency=2)
    services.transition(case, "in_progress", origin=desk)
    worker()
    record = remote.get(link.sys_id)
    assert (record["impact"], record["urgency"], record["state"]) == ("1", "2", "2")
    changes_before = case.changes.count()
    poll_and_apply(connection, worker)
    assert case.changes.count() == changes_before  # reading our own writes back changes nothing


def test_polling_uses_the_watermark_with_overlap_and_dedupes(route, make_case, worker, remote, connection):
    cases = [linked_case(make_case, worker, title=f"Sak {n}")[1] for n in range(3)]
    for link in cases:
        remote.patch(link.sys_id, work_notes="første")
        remote.patch(link.sys_id, work_notes="andre")  # the same second, very likely
    assert poll_and_apply(connection, worker) == 3
    assert poll_and_apply(connection, worker) == 0  # the overlap window re-reads them: nothing new
    connection.refresh_from_db()
    assert connection.poll_watermark and connection.last_poll_at
    for link in cases:
        link.refresh_from_db()
        assert link.case.notes.filter(text__in=["første", "andre"]).count() == 2


def test_a_small_poll_page_walks_forward_by_watermark(route, make_case, worker, remote, connection):
    links = [linked_case(make_case, worker, title=f"Sak {n}")[1] for n in range(5)]
    for link in links:
        remote.patch(link.sys_id, work_notes="oppdatert")
    connection.refresh_from_db()
    assert sync.poll(connection, page=2) == 5
    assert InboxEvent.objects.filter(source="poll").count() == 5


def test_reconciliation_reports_agreement_and_repairs_a_missed_change(route, make_case, worker, remote, connection):
    links = [linked_case(make_case, worker, title=f"Sak {n}")[1] for n in range(2)]
    run = reconcile.reconcile(trigger="test")
    assert (run.checked, run.agree, run.repaired, run.attention) == (2, 2, 0, 0), run.drift
    remote.patch(links[0].sys_id, state="2", comments="Vi er i gang.")  # no push, no poll: missed
    run = reconcile.reconcile(trigger="test")
    assert (run.checked, run.agree, run.repaired, run.attention) == (2, 1, 1, 0), run.drift
    with translation.override("en"):
        assert run.summary == "2 links checked, 1 agree, 1 repaired, 0 need attention"
    assert run.summary == "2 koblinger kontrollert, 1 stemmer, 1 reparert, 0 trenger oppfølging"  # bokmål first
    links[0].case.refresh_from_db()
    assert links[0].case.state == "in_progress" and links[0].case.replys.count() == 1


def test_attachments_both_ways_through_the_attachment_api(route, make_case, worker, remote, snow, cast):
    from kompass.vendors.sync import VendorFile

    case, link = linked_case(make_case, worker)
    desk = ChangeOrigin.by_user(cast["desk"])
    services.add_reply(case, "Logg vedlagt.", origin=desk, attachments=[VendorFile("logg.txt", b"feil 42\n")])
    services.add_note(case, "Del: ruteren er byttet.", origin=desk, share_with_vendor=True)
    worker()
    listed = snow.get("/api/now/attachment", params={"sysparm_query": f"table_sys_id={link.sys_id}"}).json()
    assert [row["file_name"] for row in listed["result"]] == ["logg.txt"]
    notes = [row["value"] for row in remote.journal(link.sys_id) if row["element"] == "work_notes"]
    assert len(notes) == 1 and notes[0].startswith("Del: ruteren er byttet.")
    # The vendor's engineer attaches a report (and a file Kompass refuses), then comments.
    for name, data in (("rapport.txt", b"Rapport: disk byttet"), ("data.bin", b"\x00\x01\x02 binary")):
        snow.post(
            "/api/now/attachment/file",
            params={"table_name": "incident", "table_sys_id": link.sys_id, "file_name": name},
            headers={"Content-Type": "text/plain"},
            content=data,
            auth=("itil.engineer1", "itil.engineer1"),
        ).raise_for_status()
    remote.patch(link.sys_id, comments="Rapport vedlagt.")
    poll_and_apply(route.connection, worker)
    poll_and_apply(route.connection, worker)
    assert sorted(case.attachments.values_list("name", flat=True)) == ["logg.txt", "rapport.txt"]
    assert case.attachments.get(name="rapport.txt").file.read() == b"Rapport: disk byttet"
    assert case.notes.filter(text__contains="data.bin").count() == 1  # refused on its content, said once
    # A file the vendor's rules refuse (blocked extension) is shown on the case, not retried.
    services.add_attachments(case, [VendorFile("kommando.bat", b"echo hei\n")], origin=desk)
    worker()
    assert OutboxMessage.objects.filter(kind="attachment", refused=True).count() == 1
    assert case.notes.filter(text__contains="avviste").exists()
    run = reconcile.reconcile(trigger="test")
    assert run.attention == 0, run.drift
