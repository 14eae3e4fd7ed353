"""Unit tests of the sync logic with an in-memory transport: mapping, idempotent create, journal dedupe,
ordering, echo suppression (incl. the caller reply), watermark overlap and same-second updates."""

import itertools
import uuid

import pytest
from django.utils import timezone

from kompass.cases import services
from kompass.cases.services import ChangeOrigin
from kompass.vendors import sync
from kompass.vendors.mapping import Mapping, marker, strip_marker
from kompass.vendors.models import InboxEvent, OutboxMessage, ServiceRoute, VendorConnection, VendorLink
from kompass.vendors.tests.conftest import drain
from kompass.vendors.transports import TransportError

pytestmark = pytest.mark.django_db


class FakeVendor:
    """An incident table and its journal in memory, with ServiceNow's caller-comment business rule."""

    def __init__(self):
        self.records, self.journal, self.calls, self.attachments = {}, [], [], []
        self.clock = itertools.count(1)
        self.second = "2026-12-01 10:00:00"  # one second for everything unless a test moves it
        self.lose_next_answer = False

    def _answer(self, record):
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise TransportError("HTTP 502 (text/html page)", status=502, retryable=True)
        return dict(record)

    def _touch(self, record, user):
        record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)
        record["sys_updated_on"], record["sys_updated_by"] = self.second, user

    def create(self, table, fields):
        self.calls.append("create")
        sys_id = uuid.uuid4().hex
        record = {"state": "1", "hold_reason": "", "impact": "3", "urgency": "3", **fields}
        record.update(sys_id=sys_id, number=f"INC{next(self.clock):07d}", sys_mod_count="0")
        record.update(sys_updated_on=self.second, sys_updated_by="kompass.integration")
        self.records[sys_id] = record
        return self._answer(record)

    def vendor_write(self, sys_id, user="itil.engineer1", comments="", work_notes="", **fields):
        record = self.records[sys_id]
        record.update(fields)
        for element, text in (("comments", comments), ("work_notes", work_notes)):
            if text:
                self._add_journal(sys_id, element, text, user)
        self._touch(record, user)
        return dict(record)

    def _add_journal(self, sys_id, element, text, user):
        row = {"sys_id": uuid.uuid4().hex, "element": element, "element_id": sys_id, "value": text}
        row.update(sys_created_on=self.second, sys_created_by=user)
        self.journal.append(row)

    def update(self, table, sys_id, fields):
        self.calls.append("update")
        record = self.records[sys_id]
        if record["state"] == "7":
            raise TransportError("HTTP 403: Operation Failed", status=403)
        text = fields.get("comments") or fields.get("work_notes")
        if text:
            self._add_journal(sys_id, "comments" if "comments" in fields else "work_notes", text, "kompass.integration")
        if "comments" in fields and record["state"] == "3" and record["hold_reason"] == "1":
            record.update(state="2", hold_reason="")  # the caller answered: In Progress, in the same update
        record.update({k: v for k, v in fields.items() if k not in ("comments", "work_notes")})
        self._touch(record, "kompass.integration")
        return self._answer(record)

    def add_journal(self, table, sys_id, element, text):
        return self.update(table, sys_id, {element: text})

    def fetch(self, table, sys_id, fields=None):
        self.calls.append("fetch")
        return dict(self.records[sys_id]) if sys_id in self.records else None

    def fetch_many(self, table, sys_ids, fields=None):
        self.calls.append("fetch_many")
        return [dict(self.records[s]) for s in sorted(sys_ids) if s in self.records]

    def fetch_changed_since(self, table, since, *, fields=None, limit=200, offset=0):
        self.calls.append(f"changed>={since}@{offset}")
        rows = sorted(
            (r for r in self.records.values() if r["sys_updated_on"] >= since and r.get("correlation_id")),
            key=lambda r: (r["sys_updated_on"], r["sys_id"]),
        )
        return [dict(r) for r in rows[offset : offset + limit]]

    def fetch_journal_since(self, table, sys_id, since="", *, limit=500):
        self.calls.append("journal")
        rows = [r for r in self.journal if r["element_id"] == sys_id and r["sys_created_on"] >= since]
        return [dict(r) for r in sorted(rows, key=lambda r: (r["sys_created_on"], r["sys_id"]))]

    def fetch_journal_many(self, table, sys_ids, since=""):
        self.calls.append("journal_many")
        rows = [r for r in self.journal if r["element_id"] in set(sys_ids) and r["sys_created_on"] >= since]
        return [dict(r) for r in sorted(rows, key=lambda r: (r["sys_created_on"], r["sys_id"]))]

    def find_by_correlation(self, table, correlation_id, fields=None):
        self.calls.append("find")
        return [dict(r) for r in self.records.values() if r.get("correlation_id") == correlation_id]

    def journal_has_marker(self, table, sys_id, mark):
        self.calls.append("marker?")
        return any(r["element_id"] == sys_id and mark in r["value"] for r in self.journal)

    def add_attachment(self, table, sys_id, file_name, content_type, data):
        import hashlib

        self.calls.append("attach")
        row = {"sys_id": uuid.uuid4().hex, "file_name": file_name, "content_type": content_type}
        row.update(size_bytes=str(len(data)), hash=hashlib.sha256(data).hexdigest(), table_sys_id=sys_id)
        self.attachments.append((row, data))
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise TransportError("HTTP 504 (text/html page)", status=504, retryable=True)
        return dict(row)

    def list_attachments(self, table, sys_id):
        self.calls.append("attachments")
        return [dict(row) for row, _data in self.attachments if row["table_sys_id"] == sys_id]

    def list_attachments_many(self, table, sys_ids):
        self.calls.append("attachments_many")
        return [dict(row) for row, _data in self.attachments if row["table_sys_id"] in set(sys_ids)]

    def download_attachment(self, attachment_sys_id):
        row, data = next((r, d) for r, d in self.attachments if r["sys_id"] == attachment_sys_id)
        return dict(row), data

    def close(self):
        pass


@pytest.fixture
def vendor(monkeypatch):
    fake = FakeVendor()
    monkeypatch.setattr(sync, "transport", lambda connection: fake)
    return fake


@pytest.fixture
def connection(db):
    return VendorConnection.objects.create(
        name="Falsk", base_url="https://vendor.example", username="k", secret_env="FAKE_SECRET"
    )


@pytest.fixture
def bonded(cast, agencies, connection, vendor):
    from kompass.core.models import Service

    service = Service.objects.create(name="Levert", delivery="vendor")
    ServiceRoute.objects.create(service=service, connection=connection)

    def make(**kwargs):
        requester = cast["requester"]
        case = services.create_case(
            requester=requester,
            service=service,
            title="Nettet er nede",
            origin=ChangeOrigin.by_user(requester),
            **kwargs,
        )
        drain()
        return case, VendorLink.objects.get(case=case)

    return make


def outbox_kinds(link):
    return list(OutboxMessage.objects.filter(link=link).order_by("pk").values_list("kind", flat=True))


def apply_remote(link, vendor):
    """What a push does: an inbox event for the record's newest sys_mod_count, applied."""
    record = vendor.records[link.sys_id]
    sync.record_event(
        link.connection,
        {"sys_id": link.sys_id, "sys_mod_count": record["sys_mod_count"]},
        source="webhook",
        event_id=uuid.uuid4().hex,
    )
    drain()


# -- mapping ------------------------------------------------------------------------------------


def test_default_mapping_of_states_and_the_awaiting_caller_hold():
    mapping = Mapping()
    assert mapping.case_state({"state": "2"}) == "in_progress"
    assert mapping.case_state({"state": "3", "hold_reason": "1"}) == "waiting_requester"
    assert mapping.case_state({"state": "3", "hold_reason": "4"}) == "in_progress"
    assert mapping.case_state({"state": "6"}) == "resolved"
    assert mapping.case_state({"state": "7"}) == "closed"
    assert mapping.case_state({"state": "1"}) is None
    assert mapping.remote_state("waiting_requester") == {"state": "3", "hold_reason": "1"}
    assert mapping.remote_state("resolved", resolution="Fikset")["close_notes"] == "Fikset"
    assert mapping.remote_state("closed") is None  # closing is the vendor's (auto-close)
    assert Mapping.state_key({"state": "3", "hold_reason": "1"}) == "3/1"
    assert Mapping.state_key({"state": "6", "close_notes": "a"}) != Mapping.state_key(
        {"state": "6", "close_notes": "b"}
    )


def test_a_connection_overrides_single_keys_of_the_mapping():
    mapping = Mapping({"hold_to_case": {"4": "waiting_vendor"}, "case_to_remote": {"cancelled": None}})
    assert mapping.case_state({"state": "3", "hold_reason": "4"}) == "waiting_vendor"
    assert mapping.case_state({"state": "3", "hold_reason": "1"}) == "waiting_requester"  # the default stays
    assert mapping.remote_state("cancelled") is None


def test_the_vendor_resolution_text_carries_notes_and_code():
    assert Mapping.resolution_text({"close_code": "Solved (Permanently)", "close_notes": "Ny disk."}) == (
        "Ny disk.\n\n(Solved (Permanently))"
    )
    assert Mapping.case_priority({"impact": "1", "urgency": "2"}) == (1, 2)
    assert Mapping.case_priority({"impact": "", "urgency": "2"}) is None


def test_markers_are_recognised_and_stripped():
    assert marker("reply", 12) == "[kompass:reply:12]"
    assert strip_marker("Hei\n\n[kompass:reply:12]") == "Hei"


# -- idempotent create --------------------------------------------------------------------------


def test_create_sets_correlation_and_a_retried_create_looks_it_up_first(bonded, vendor):
    vendor.lose_next_answer = True
    case, link = bonded()
    assert link.sync_state == "pending"  # the answer was lost; the record exists at the vendor
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    drain()
    link.refresh_from_db()
    assert vendor.calls.count("create") == 1 and "find" in vendor.calls
    assert len(vendor.records) == 1 and link.sys_id in vendor.records
    assert vendor.records[link.sys_id]["correlation_id"] == case.number


def test_sending_a_case_twice_keeps_one_link(bonded, connection):
    case, link = bonded()
    again, created = sync.open_link(case, connection)
    assert again == link and not created
    assert OutboxMessage.objects.filter(kind="create").count() == 1


# -- journal dedupe -------------------------------------------------------------------------------


def test_journal_rows_are_applied_once_and_own_entries_are_recognised(bonded, vendor, cast):
    case, link = bonded()
    services.add_reply(case, "Fra Kompass", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()
    vendor.vendor_write(link.sys_id, comments="Fra leverandøren", work_notes="Intern hos leverandøren")
    apply_remote(link, vendor)
    apply_remote(link, vendor)  # the same again (duplicate push, poll overlap)
    assert list(case.replys.values_list("text", "origin")) == [("Fra Kompass", "user"), ("Fra leverandøren", "vendor")]
    assert case.notes.filter(text="Intern hos leverandøren").count() == 1
    comments = [r for r in vendor.journal if r["element"] == "comments"]
    assert len(comments) == 2 and comments[0]["value"].endswith(marker("reply", case.replys.first().pk))


def test_a_retried_comment_whose_patch_landed_is_not_written_again(bonded, vendor, cast):
    case, link = bonded()
    vendor.lose_next_answer = True
    services.add_reply(case, "Én gang", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    drain()
    assert "marker?" in vendor.calls
    assert [r["value"] for r in vendor.journal].count(f"Én gang\n\n{marker('reply', case.replys.get().pk)}") == 1


def test_same_second_journal_rows_behind_the_watermark_are_all_seen_once(bonded, vendor):
    case, link = bonded()
    vendor.vendor_write(link.sys_id, work_notes="a")
    apply_remote(link, vendor)
    vendor.vendor_write(link.sys_id, work_notes="b")  # the same second as "a" (the watermark's second)
    vendor.vendor_write(link.sys_id, comments="c")
    apply_remote(link, vendor)
    assert sorted(case.notes.filter(text__in=["a", "b"]).values_list("text", flat=True)) == ["a", "b"]
    assert case.replys.filter(text="c").count() == 1


def test_a_resolution_redone_between_two_reads_reaches_the_requester(bonded, vendor):
    case, link = bonded()
    vendor.vendor_write(link.sys_id, state="6", close_code="Solved (Permanently)", close_notes="Første løsning.")
    apply_remote(link, vendor)
    vendor.vendor_write(link.sys_id, state="2", comments="Det virker ikke likevel.")  # not read by Kompass
    vendor.vendor_write(link.sys_id, state="6", close_code="Solved (Permanently)", close_notes="Andre løsning.")
    apply_remote(link, vendor)
    case.refresh_from_db()
    assert case.state == "resolved" and "Andre løsning." in case.resolution
    resolutions = [c for c in case.changes.filter(origin="vendor", kind="state") if c.detail["to"] == "resolved"]
    assert len(resolutions) == 2


def test_a_vendor_comment_on_a_closed_case_becomes_an_internal_note(bonded, vendor):
    """The reply is refused (the case is closed) inside the sync's held case, where a reply has no savepoint of its
    own: the refusal comes before any write, so the note that replaces it goes into the same transaction."""
    case, link = bonded()
    vendor.vendor_write(link.sys_id, state="7", close_code="Solved (Permanently)", close_notes="Ferdig.")
    apply_remote(link, vendor)
    case.refresh_from_db()
    assert case.state == "closed"
    vendor.vendor_write(link.sys_id, comments="Et etterord")
    apply_remote(link, vendor)
    assert not case.replys.filter(text="Et etterord").exists()
    assert case.notes.filter(text="Kommentar fra leverandøren etter lukking: Et etterord").count() == 1
    assert InboxEvent.objects.filter(sys_id=link.sys_id).order_by("-pk").first().outcome == "applied"


# -- ordering -------------------------------------------------------------------------------------


def test_messages_of_one_link_go_in_order(bonded, vendor, cast):
    case, link = bonded()
    desk = ChangeOrigin.by_user(cast["desk"])
    services.add_reply(case, "først", origin=desk)
    services.add_reply(case, "så", origin=desk)
    first, second = OutboxMessage.objects.filter(link=link, kind="comment").order_by("pk")
    # The second is due first (the first is backing off): it must wait, without spending an attempt.
    OutboxMessage.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() + timezone.timedelta(hours=1))
    drain()
    second.refresh_from_db()
    assert second.state == "pending" and second.attempts == 0 and "Waiting for message" in second.last_error
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    drain()
    texts = [strip_marker(r["value"]) for r in vendor.journal if r["element"] == "comments"]
    assert texts == ["først", "så"]


def test_a_stale_or_duplicate_push_changes_nothing(bonded, vendor):
    case, link = bonded()
    vendor.vendor_write(link.sys_id, state="2")
    apply_remote(link, vendor)
    link.refresh_from_db()
    applied = link.last_mod_count
    old = InboxEvent.objects.create(
        connection=link.connection, source="webhook", sys_id=link.sys_id, mod_count=applied - 1
    )
    assert sync.process_event(old) == "stale"
    stale_record = {**vendor.records[link.sys_id], "state": "6", "sys_mod_count": str(applied)}
    assert sync.apply_record(link, stale_record, vendor) == "stale"
    case.refresh_from_db()
    assert case.state == "in_progress"


# -- echo suppression ---------------------------------------------------------------------------------


def test_changes_applied_from_the_vendor_are_not_sent_back(bonded, vendor):
    case, link = bonded()
    vendor.vendor_write(link.sys_id, state="2", impact="1", comments="Vi jobber med det.")
    apply_remote(link, vendor)
    case.refresh_from_db()
    assert (case.state, case.impact) == ("in_progress", 1)
    assert outbox_kinds(link) == ["create"]  # no state, priority or comment went back


def test_a_kompass_change_equal_to_the_last_synchronised_value_is_not_sent(bonded, vendor, cast):
    case, link = bonded()
    vendor.vendor_write(link.sys_id, state="3", hold_reason="1")
    apply_remote(link, vendor)
    desk = ChangeOrigin.by_user(cast["desk"])
    services.transition(case, "in_progress", origin=desk)
    services.transition(case, "waiting_requester", origin=desk)  # back to what the vendor already has
    kinds = outbox_kinds(link)
    assert kinds == ["create", "update"]  # in_progress went out; waiting_requester equals synced "3/1"


def test_the_caller_reply_resumes_the_incident_and_kompass_sees_it(bonded, vendor, cast):
    """Never by sys_updated_by alone: the integration user's write also moved the state, and that counts."""
    case, link = bonded()
    vendor.vendor_write(link.sys_id, state="3", hold_reason="1", comments="Hvilken PC?")
    apply_remote(link, vendor)
    case.refresh_from_db()
    assert case.state == "waiting_requester"
    services.add_reply(case, "Den bærbare.", origin=ChangeOrigin.by_user(cast["requester"]))
    drain()
    record = vendor.records[link.sys_id]
    assert (record["state"], record["sys_updated_by"]) == ("2", "kompass.integration")
    link.refresh_from_db()
    case.refresh_from_db()
    assert case.state == "in_progress" and link.synced["state"] == "2"
    assert outbox_kinds(link) == ["create", "comment"]
    # The vendor asks again: the change from 2 back to 3/1 is seen (it is not our own value).
    vendor.vendor_write(link.sys_id, state="3", hold_reason="1", comments="Og serienummeret?")
    apply_remote(link, vendor)
    case.refresh_from_db()
    assert case.state == "waiting_requester"


# -- refused writes -----------------------------------------------------------------------------------


def test_a_refused_write_is_not_retried(bonded, vendor, cast):
    case, link = bonded()
    vendor.records[link.sys_id]["state"] = "7"
    services.add_reply(case, "Hallo?", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()
    drain()
    message = OutboxMessage.objects.get(link=link, kind="comment")
    assert message.refused and message.state == "done" and message.attempts == 1
    assert sync.retry_dead([message]) == 1
    message.refresh_from_db()
    assert message.state == "pending" and not message.refused


# -- polling ----------------------------------------------------------------------------------------


def test_the_poller_overlaps_its_watermark_and_restarts_from_it(bonded, vendor, connection):
    links = [bonded()[1] for _ in range(5)]
    vendor.second = "2026-12-01 10:00:05"
    for link in links[:3]:
        vendor.vendor_write(link.sys_id, work_notes="x")
    vendor.second = "2026-12-01 10:00:09"
    for link in links[3:]:
        vendor.vendor_write(link.sys_id, work_notes="y")
    connection.poll_watermark = "2026-12-01 10:00:05"
    connection.save()
    vendor.calls.clear()
    assert sync.poll(connection, page=2) == 5
    queries = [c for c in vendor.calls if c.startswith("changed")]
    assert queries[0] == "changed>=2026-12-01 09:59:55@0"  # watermark minus the overlap
    assert "changed>=2026-12-01 10:00:05@2" in queries  # a full page inside one second: the only offset
    connection.refresh_from_db()
    assert connection.poll_watermark == "2026-12-01 10:00:09"
    assert sync.poll(connection, page=2) == 0  # the overlap re-reads; (sys_id, sys_mod_count) dedupes
    drain()
    assert InboxEvent.objects.filter(state="done").count() == 5


# -- share with vendor (internal notes → work_notes only when marked) ----------------------------


def test_only_a_note_marked_share_with_vendor_goes_to_the_work_notes_once(bonded, vendor, cast):
    case, link = bonded()
    desk = ChangeOrigin.by_user(cast["desk"])
    services.add_note(case, "Intern: ring leverandøren.", origin=desk)
    shared = services.add_note(case, "Logger vedlagt, se hendelse 12:03.", origin=desk, share_with_vendor=True)
    assert outbox_kinds(link) == ["create", "work_note"]
    vendor.lose_next_answer = True  # the PATCH landed, its answer was lost: the retry finds the marker
    drain()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    drain()
    notes = [r for r in vendor.journal if r["element"] == "work_notes"]
    assert len(notes) == 1 and notes[0]["value"].startswith("Logger vedlagt")
    assert marker("note", shared.pk) in notes[0]["value"]
    assert not [r for r in vendor.journal if r["element"] == "comments"]
    # Coming back through the journal it is recognised by its marker: no second note on the case.
    apply_remote(link, vendor)
    assert case.notes.filter(text__startswith="Logger vedlagt").count() == 1
    assert not case.replys.exists()  # a shared note never becomes public


def test_vendor_work_notes_stay_internal_notes_and_are_not_shared_back(bonded, vendor):
    case, link = bonded()
    vendor.vendor_write(link.sys_id, work_notes="Byttet nettverkskort.")
    apply_remote(link, vendor)
    note = case.notes.get(text="Byttet nettverkskort.")
    assert note.share_with_vendor is False and note.origin == "vendor"
    assert not case.replys.exists()
    assert outbox_kinds(link) == ["create"]


# -- attachments both ways ----------------------------------------------------------------------


def test_attachments_go_out_once_and_vendor_attachments_come_in_once(bonded, vendor, cast):
    from kompass.vendors import reconcile
    from kompass.vendors.sync import VendorFile

    case, link = bonded()
    desk = ChangeOrigin.by_user(cast["desk"])
    services.add_reply(case, "Se loggen.", origin=desk, attachments=[VendorFile("logg.txt", b"feil 42\n")])
    vendor.lose_next_answer = False
    drain()
    assert outbox_kinds(link) == ["create", "comment", "attachment"]
    # The upload lands but its answer is lost: the retry finds it by its hash and does not upload again.
    services.add_attachments(case, [VendorFile("skjerm.txt", b"skjermbilde")], origin=desk)
    vendor.lose_next_answer = True
    drain()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    drain()
    assert vendor.calls.count("attach") == 2
    assert sorted(row["file_name"] for row, _ in vendor.attachments) == ["logg.txt", "skjerm.txt"]
    # The vendor attaches a file: it arrives on the next re-read, once; our own uploads are not taken back.
    vendor.attachments.append(
        ({"sys_id": uuid.uuid4().hex, "file_name": "rapport.txt", "content_type": "text/plain", "hash": "x",
          "size_bytes": "7", "table_sys_id": link.sys_id}, b"rapport")
    )  # fmt: skip
    vendor.vendor_write(link.sys_id, comments="Rapport vedlagt.")
    apply_remote(link, vendor)
    apply_remote(link, vendor)
    assert sorted(case.attachments.values_list("name", flat=True)) == ["logg.txt", "rapport.txt", "skjerm.txt"]
    link.refresh_from_db()
    assert len(link.attachments) == 3
    assert reconcile.reconcile(trigger="test").attention == 0


def test_a_vendor_attachment_kompass_refuses_is_noted_once_and_reconciliation_finds_a_missing_one(bonded, vendor):
    from kompass.vendors import reconcile

    case, link = bonded()
    vendor.attachments.append(
        ({"sys_id": uuid.uuid4().hex, "file_name": "virus.exe", "content_type": "application/x-msdownload",
          "hash": "y", "size_bytes": "4", "table_sys_id": link.sys_id}, b"MZ\x90\x00")
    )  # fmt: skip
    vendor.vendor_write(link.sys_id, comments="Her er en fil.")
    apply_remote(link, vendor)
    assert not case.attachments.exists()
    assert case.notes.filter(text__contains="virus.exe").count() == 1
    # A vendor attachment no push announced: reconciliation repairs it.
    vendor.attachments.append(
        ({"sys_id": uuid.uuid4().hex, "file_name": "sent.txt", "content_type": "text/plain", "hash": "z",
          "size_bytes": "4", "table_sys_id": link.sys_id}, b"sent")
    )  # fmt: skip
    run = reconcile.reconcile(trigger="test")
    assert run.repaired == 1 and run.attention == 0, run.drift
    assert list(case.attachments.values_list("name", flat=True)) == ["sent.txt"]
    assert case.notes.filter(text__contains="virus.exe").count() == 1


# -- the case page's slot (kompass.core.panels) ---------------------------------------------------


def test_the_case_page_shows_the_link_its_refusals_and_the_retry_to_agents_only(bonded, vendor, cast, clients):
    case, link = bonded()
    vendor.records[link.sys_id]["state"] = "7"
    services.add_reply(case, "Hallo?", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()
    link.refresh_from_db()
    body = clients("desk").get(case.get_absolute_url()).content.decode()
    assert 'data-testid="vendor-link-panel"' in body and link.number in body
    assert 'data-testid="vendor-refused"' in body and "403" in body
    assert f'action="/vendors/links/{link.pk}/retry/"' in body
    body = clients("agreement").get(case.get_absolute_url()).content.decode()
    assert link.number in body and "/retry/" not in body  # agreement managers read links, never retry
    body = clients("requester").get(case.get_absolute_url()).content.decode()
    assert "vendor-link-panel" not in body and link.number not in body


# -- alerts to administrators -------------------------------------------------------------------


def test_an_alert_is_mailed_once_per_incident_and_once_when_recovered(bonded, vendor, cast, monkeypatch, client):
    from django.apps import apps

    from kompass.vendors import alerts

    delivery_model = apps.get_model("notifications", "Delivery")  # the ledger (no import of a sibling's models)

    monkeypatch.setenv("KOMPASS_VENDORS_ALERT_DEAD_LETTERS", "1")
    case, link = bonded()
    VendorConnection.objects.update(last_poll_at=timezone.now())
    assert alerts.check() == {"opened": [], "recovered": []}
    assert client.get("/healthz").json()["apps"]["vendors"]["status"] == "ok"
    vendor.records[link.sys_id]["state"] = "7"
    services.add_reply(case, "Hallo?", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()  # refused by the vendor: one dead letter / refused write
    assert alerts.check()["opened"] == ["dead_letters"]
    assert alerts.check() == {"opened": [], "recovered": []}  # still crossed: no second mail
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["apps"]["vendors"]["alerts"] == ["dead_letters"]
    mails = delivery_model.objects.filter(event="vendors.health_alert", channel="email")
    assert list(mails.values_list("recipient__email", flat=True)) == [cast["admin"].email]
    OutboxMessage.objects.filter(refused=True).update(refused=False)
    assert alerts.check()["recovered"] == ["dead_letters"]
    assert mails.count() == 2 and mails.filter(key__endswith=":recovered").count() == 1
    assert client.get("/healthz").status_code == 200


def test_a_silent_connection_and_an_uninformed_requester_cross_their_thresholds(bonded, vendor):
    from datetime import timedelta

    from kompass.vendors import alerts

    case, link = bonded()
    VendorConnection.objects.update(last_poll_at=timezone.now() - timedelta(minutes=30))
    assert f"silent:{link.connection_id}" in alerts.crossed()
    snapshot = {
        "outbox": {"backlog": 0, "oldest_pending_age_seconds": None, "dead_letters": 0},
        "requesters_not_informed": 1,
    }
    VendorConnection.objects.update(last_poll_at=timezone.now())
    assert list(alerts.crossed(snapshot=snapshot)) == ["requesters_not_informed"]


# -- batches: one read per kind for a claimed batch, one transaction per event ----------------------------


def push_all(links, vendor):
    """Pushes for every link's newest sys_mod_count, stored but not applied yet."""
    for link in links:
        record = vendor.records[link.sys_id]
        sync.record_event(
            link.connection,
            {"sys_id": link.sys_id, "sys_mod_count": record["sys_mod_count"]},
            source="webhook",
            event_id=uuid.uuid4().hex,
        )


def test_requesters_not_informed_lists_the_vendor_resolutions_nobody_was_told_of_in_a_few_queries(
    bonded, vendor, django_assert_max_num_queries
):
    from django.apps import apps

    from kompass.core import durable
    from kompass.vendors import health

    bonds = [bonded() for _ in range(3)]
    for _case, link in bonds:
        vendor.vendor_write(link.sys_id, state="6", close_code="Solved (Permanently)", close_notes="Løst.")
        apply_remote(link, vendor)
    assert len(health.requesters_not_informed(minutes=0)) == 3  # resolved, the notifications not yet sent
    durable.PROCESSORS["notifications.delivery"].run("test")
    assert health.requesters_not_informed(minutes=0) == []  # every requester was told
    untold = bonds[1][0]
    apps.get_model("notifications", "Delivery").objects.filter(key__startswith=f"case:{untold.pk}:resolved:").update(
        sent_at=None, state="pending"
    )
    with django_assert_max_num_queries(2):  # not a query per bonded case or per resolution
        missing = health.requesters_not_informed(minutes=0)
    assert [row["case"] for row in missing] == [untold.number]
    assert health.requesters_not_informed() == []  # within the grace minutes it is not counted yet


def test_a_batch_of_events_reads_records_journal_and_attachments_once_each(bonded, vendor):
    pairs = [bonded() for _ in range(4)]
    for n, (_case, link) in enumerate(pairs):
        vendor.vendor_write(link.sys_id, comments=f"Svar {n}", state="2")
    vendor.calls.clear()
    push_all([link for _case, link in pairs], vendor)
    drain()
    assert vendor.calls == ["fetch_many", "journal_many", "attachments_many"]  # not 3 reads per event
    for n, (case, _link) in enumerate(pairs):
        assert list(case.replys.values_list("text", flat=True)) == [f"Svar {n}"]
        case.refresh_from_db()
        assert case.state == "in_progress"
    assert set(InboxEvent.objects.values_list("outcome", flat=True)) == {"applied"}


def test_several_events_of_one_record_in_a_batch_are_applied_once(bonded, vendor):
    (case, link), (other, other_link) = bonded(), bonded()
    vendor.vendor_write(link.sys_id, comments="Første")
    push_all([link], vendor)
    vendor.vendor_write(link.sys_id, comments="Andre", state="2")
    vendor.vendor_write(other_link.sys_id, comments="Tredje")
    push_all([link, other_link], vendor)
    vendor.calls.clear()
    drain()
    outcomes = list(InboxEvent.objects.filter(sys_id=link.sys_id).order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["applied", "stale"]  # the second push's sys_mod_count came with the first read
    assert sorted(case.replys.values_list("text", flat=True)) == ["Andre", "Første"]  # same second: sys_id order
    assert list(other.replys.values_list("text", flat=True)) == ["Tredje"]
    assert vendor.calls.count("fetch_many") == 1 and "fetch" not in vendor.calls


def test_one_failing_event_does_not_hold_back_the_rest_of_its_batch(bonded, vendor, monkeypatch):
    pairs = [bonded() for _ in range(3)]
    bad = pairs[1][1]
    for n, (_case, link) in enumerate(pairs):
        vendor.vendor_write(link.sys_id, comments=f"Svar {n}")
    apply = sync.apply_record

    def flaky(link, record, *args, **kwargs):
        if link.sys_id == bad.sys_id:
            raise TransportError("HTTP 502", status=502, retryable=True)
        return apply(link, record, *args, **kwargs)

    monkeypatch.setattr(sync, "apply_record", flaky)
    push_all([link for _case, link in pairs], vendor)
    drain()
    states = dict(InboxEvent.objects.values_list("sys_id", "state"))
    assert states[bad.sys_id] == "pending" and {states[p[1].sys_id] for p in (pairs[0], pairs[2])} == {"done"}
    assert pairs[0][0].replys.count() == 1 and pairs[2][0].replys.count() == 1 and pairs[1][0].replys.count() == 0
    monkeypatch.setattr(sync, "apply_record", apply)
    InboxEvent.objects.update(next_attempt_at=timezone.now())
    drain()
    assert list(pairs[1][0].replys.values_list("text", flat=True)) == ["Svar 1"]  # applied once on the retry
    assert pairs[0][0].replys.count() == 1
