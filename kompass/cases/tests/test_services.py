"""The service functions: numbering, states, SLA clocks, conversation, links, ratings, signals, notifications."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from kompass.cases import services
from kompass.cases.models import Case, CaseChange, Note, Reply
from kompass.cases.services import CaseError, ChangeOrigin
from kompass.cases.signals import case_changed
from kompass.cases.tests.conftest import oslo, utc

pytestmark = pytest.mark.django_db

State = Case.State


def by(user):
    return ChangeOrigin.by_user(user)


def at(when):
    return mock.patch("kompass.cases.services._now", return_value=when)


def test_it_numbers_cases_per_year_in_oslo(make_case):
    with at(oslo(2026, 12, 31, 23, 30)):  # still 2026 in Oslo, 22:30 UTC
        first, second = make_case(), make_case()
    with at(oslo(2027, 1, 1, 0, 30)):  # 2027 in Oslo although 2026 in UTC
        third = make_case()
    assert [first.number, second.number, third.number] == ["KOM-2026-000001", "KOM-2026-000002", "KOM-2027-000001"]


def test_it_derives_priority_and_starts_both_clocks(make_case, settings):
    with at(oslo(2026, 12, 7, 9)):  # Monday 09:00; impact 2 × urgency 2 → P3: 4 business hours, 2 working days
        case = make_case(impact=2, urgency=2)
    assert case.priority == 3
    assert case.response_due == utc(2026, 12, 7, 12)  # 13:00 Oslo
    assert case.resolution_due == utc(2026, 12, 9, 8)  # Wednesday 09:00 Oslo
    assert (case.sla_state, case.state, case.source) == ("ok", State.NEW, Case.Source.PORTAL)
    settings.KOMPASS_CASES_PRIORITY_MATRIX = "11=1,12=1,13=1,21=1,22=1,23=1,31=1,32=1,33=1"
    assert make_case(impact=3, urgency=3).priority == 1


def test_it_refuses_bad_input_and_changes_nothing(make_case, cast, service, systems):
    with pytest.raises(CaseError) as error:
        make_case(title="  ")
    assert error.value.code == "title_required"
    with pytest.raises(CaseError) as error:
        make_case(impact=4)
    assert error.value.code == "impact_urgency"
    with pytest.raises(CaseError) as error:
        make_case(system=systems["beta"])
    assert error.value.code == "system_agency"
    assert not Case.objects.exists() and not CaseChange.objects.exists()


def test_a_requester_registers_only_in_their_own_agency_and_name(cast, service, agencies):
    requester = cast["requester"]
    with pytest.raises(PermissionDenied):
        services.create_case(
            requester=requester, agency=agencies["beta"], service=service, title="x", origin=by(requester)
        )
    with pytest.raises(PermissionDenied):
        services.create_case(
            requester=cast["desk"], agency=agencies["alfa"], service=service, title="x", origin=by(requester)
        )
    # An agent registers on someone's behalf.
    case = services.create_case(requester=requester, service=service, title="Telefon", origin=by(cast["desk"]))
    assert case.agency == agencies["alfa"]
    assert not Case.objects.exclude(pk=case.pk).exists()


def test_illegal_transitions_are_refused_with_409_and_change_nothing(make_case, cast):
    case = make_case()
    with pytest.raises(CaseError) as error:
        services.transition(case, State.CLOSED, origin=by(cast["desk"]))
    assert (error.value.status, error.value.code) == (409, "illegal_transition")
    with pytest.raises(CaseError) as error:
        services.transition(case, "nonsense", origin=by(cast["desk"]))
    assert error.value.status == 400
    with pytest.raises(CaseError) as error:
        services.transition(case, State.RESOLVED, origin=by(cast["desk"]))  # no resolution text
    assert error.value.code == "resolution_required"
    case.refresh_from_db()
    assert case.state == State.NEW and list(case.changes.values_list("kind", flat=True)) == ["created"]


def test_who_may_move_a_case(make_case, cast):
    case = make_case()
    with pytest.raises(PermissionDenied):
        services.transition(case, State.IN_PROGRESS, origin=by(cast["requester"]))
    with pytest.raises(PermissionDenied):
        services.transition(case, State.IN_PROGRESS, origin=by(cast["kam"]))
    assert services.allowed_transitions(case, cast["requester"]) == [State.CANCELLED]
    services.transition(case, State.RESOLVED, resolution="Startet på nytt.", origin=by(cast["desk"]))
    assert set(services.allowed_transitions(case, cast["it_contact"])) == {State.CLOSED, State.IN_PROGRESS}
    services.transition(case, State.CLOSED, origin=by(cast["requester"]))  # confirmed
    assert case.state == State.CLOSED and case.closed_at is not None


def test_waiting_for_the_requester_pauses_and_their_reply_resumes(make_case, cast):
    with at(oslo(2026, 12, 7, 9)):
        case = make_case(impact=2, urgency=2)  # P3, due Wed 09:00
    with at(oslo(2026, 12, 7, 11)):
        services.transition(case, State.WAITING_FOR_REQUESTER, origin=by(cast["desk"]))
    assert case.sla_state == "paused" and case.responded_at == oslo(2026, 12, 7, 11)
    assert case.response_due is not None and not case.response_breached
    with at(oslo(2026, 12, 8, 11)):  # a day later
        services.add_reply(case, "Det er skriveren i 2. etasje.", origin=by(cast["requester"]))
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert case.resolution_due == utc(2026, 12, 10, 8)  # one working day later than without the pause


def test_a_priority_change_recomputes_from_the_start(make_case, cast):
    with at(oslo(2026, 12, 7, 9)):
        case = make_case(impact=2, urgency=2)
    with at(oslo(2026, 12, 7, 10)):
        services.change_priority(case, impact=1, urgency=2, origin=by(cast["desk"]))  # P2: 4 h around the clock
    assert case.priority == 2 and case.resolution_due == utc(2026, 12, 7, 12)
    assert case.changes.last().detail["from"]["priority"] == 3
    with pytest.raises(PermissionDenied):
        services.change_priority(case, impact=1, urgency=1, origin=by(cast["it_contact"]))


def test_refresh_flips_the_flags_and_tells_the_assignee(make_case, cast, sent):
    with at(oslo(2026, 12, 7, 9)):
        case = make_case(impact=1, urgency=1)  # P1: 2 h around the clock
        services.assign(case, assignee=cast["desk"], origin=by(cast["admin"]))
    assert services.refresh_sla(oslo(2026, 12, 7, 10, 31)) == 1  # 75 % of 2 h
    case.refresh_from_db()
    assert (case.sla_state, case.resolution_warning) == ("breached", True)  # the 15 min response already ran out
    services.refresh_sla(oslo(2026, 12, 7, 11, 1))
    case.refresh_from_db()
    assert case.resolution_breached and case.resolution_breached_at == utc(2026, 12, 7, 10)
    events = [(c["event"], c["recipients"]) for c in sent]
    assert ("cases.assigned", [cast["desk"]]) in events
    assert ("cases.sla_warning", [cast["desk"]]) in events
    assert ("cases.sla_breached", [cast["desk"]]) in events
    services.refresh_sla(oslo(2026, 12, 7, 12))
    assert sum(c["event"] == "cases.sla_breached" for c in sent) == 2  # response and resolution, once each


def test_resolving_stops_the_clock_and_auto_close_waits_n_working_days(make_case, cast, settings):
    settings.KOMPASS_CASES_AUTO_CLOSE_WORKING_DAYS = 2
    with at(oslo(2026, 12, 4, 9)):  # Friday
        case = make_case()
    with at(oslo(2026, 12, 4, 10)):
        services.transition(case, State.RESOLVED, resolution="Fikset.", origin=by(cast["desk"]))
    assert case.sla_state == "met"
    with at(oslo(2026, 12, 7, 12)):
        assert services.auto_close_resolved() == 0  # Monday: one working day
    with at(oslo(2026, 12, 8, 10, 30)):
        assert services.auto_close_resolved() == 1  # Tuesday after 10:00
    case.refresh_from_db()
    assert case.state == State.CLOSED and case.changes.last().origin == "system"


def test_reopen_within_the_window_starts_a_new_resolution_clock(make_case, cast, settings):
    settings.KOMPASS_CASES_REOPEN_DAYS = 14
    case = make_case()
    services.transition(case, State.RESOLVED, resolution="Fikset.", origin=by(cast["desk"]))
    services.transition(case, State.CLOSED, origin=by(cast["requester"]))
    later = timezone.now() + timedelta(days=15)
    with at(later), pytest.raises(CaseError) as error:
        services.reopen(case, origin=by(cast["requester"]))
    assert error.value.code == "reopen_window"
    with pytest.raises(PermissionDenied):
        services.reopen(case, origin=by(cast["kam"]))
    services.reopen(case, origin=by(cast["requester"]), reason="Virker ikke likevel")
    assert case.state == State.IN_PROGRESS and len(case.sla_history) == 1 and case.sla_state == "ok"


def test_rating_once_after_closing(make_case, cast):
    case = make_case()
    with pytest.raises(CaseError) as error:
        services.rate(case, 5, origin=by(cast["requester"]))
    assert error.value.code == "not_closed"
    services.transition(case, State.RESOLVED, resolution="Fikset.", origin=by(cast["desk"]))
    services.transition(case, State.CLOSED, origin=by(cast["desk"]))
    with pytest.raises(CaseError):
        services.rate(case, 6, origin=by(cast["requester"]))
    with pytest.raises(PermissionDenied):
        services.rate(case, 4, origin=by(cast["it_contact"]))
    services.rate(case, 4, "Raskt og bra", origin=by(cast["requester"]))
    with pytest.raises(CaseError) as error:
        services.rate(case, 1, origin=by(cast["requester"]))
    assert error.value.code == "already_rated"
    case.refresh_from_db()
    assert (case.rating, case.rating_comment) == (4, "Raskt og bra")


def test_major_incidents_and_duplicates(make_case, cast):
    major, child, other = make_case(title="Nettverket er nede"), make_case(), make_case()
    services.link_parent(child, major, origin=by(cast["desk"]))
    assert list(major.children.all()) == [child]
    with pytest.raises(CaseError):
        services.link_parent(other, child, origin=by(cast["desk"]))  # one level only
    with pytest.raises(CaseError):
        services.link_parent(major, major, origin=by(cast["desk"]))
    services.mark_duplicate(other, major, origin=by(cast["desk"]))
    other.refresh_from_db()
    assert other.duplicate_of == major and other.state == State.CANCELLED and other.sla_state == "stopped"
    with pytest.raises(PermissionDenied):
        services.link_parent(other, major, origin=by(cast["it_contact"]))


def test_replies_and_notes(make_case, cast, sent):
    case = make_case()
    services.assign(case, assignee=cast["desk"], origin=by(cast["desk"]))
    services.add_reply(case, "Vi ser på det.", origin=by(cast["desk"]))
    case.refresh_from_db()
    assert case.responded_at is not None
    services.add_note(case, "Hemmelig: leverandøren er treg.", origin=by(cast["desk"]))
    services.add_reply(case, "Takk!", origin=by(cast["requester"]))
    with pytest.raises(PermissionDenied):
        services.add_note(case, "x", origin=by(cast["it_contact"]))
    with pytest.raises(PermissionDenied):
        services.add_reply(case, "x", origin=by(cast["agreement"]))  # reads only
    services.add_reply(case, "Kommentar fra kundeansvarlig", origin=by(cast["kam"]))
    with pytest.raises(CaseError):
        services.add_reply(case, "  ", origin=by(cast["desk"]))
    events = [c["event"] for c in sent]
    assert events == ["cases.received", "cases.replied", "cases.requester_replied", "cases.replied"]
    assert all("Hemmelig" not in repr(c) for c in sent)  # a note is never sent
    assert sent[0]["key"].startswith(f"case:{case.pk}:received:")
    assert CaseChange.objects.get(kind="note").internal


def test_an_email_reply_keeps_its_message_id_unique(make_case, cast):
    case = make_case()
    origin = ChangeOrigin.by_email(cast["requester"], "<abc@mail>")
    services.add_reply(case, "På e-post", origin=origin, source_message_id="<abc@mail>")
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017,PT011  (IntegrityError on either database)
        services.add_reply(case, "Igjen", origin=origin, source_message_id="<abc@mail>")
    assert Reply.objects.filter(case=case).count() == 1
    assert case.changes.last().origin == "email"


def test_notes_are_invisible_to_every_agency_role(make_case, cast):
    case = make_case()
    services.add_note(case, "Intern", origin=by(cast["desk"]))
    for key in ("requester", "it_contact", "owner", "agency_admin", "kam", "vendor", "noroles"):
        assert not Note.objects.restrict(cast[key], "view").exists(), key
    for key in ("desk", "agreement", "admin"):
        assert Note.objects.restrict(cast[key], "view").count() == 1, key


def test_case_changed_is_sent_inside_the_transaction(make_case, cast):
    seen = []

    def receiver(sender, case, change, origin, **kwargs):
        seen.append((change.kind, origin.kind, transaction.get_connection().in_atomic_block))
        if case.title == "boom":
            raise RuntimeError("the outbox failed")

    case_changed.connect(receiver)
    try:
        make_case()
        services.transition(Case.objects.get(), State.IN_PROGRESS, origin=ChangeOrigin.by_vendor("servicenow:INC001"))
        with pytest.raises(RuntimeError):
            make_case(title="boom")
    finally:
        case_changed.disconnect(receiver)
    assert seen[:2] == [("created", "user", True), ("state", "vendor", True)]
    assert Case.objects.count() == 1  # the failing receiver rolled its case back
    assert Case.objects.get().changes.last().origin_ref == "servicenow:INC001"


def infected(content: bytes) -> bool:
    return b"EICAR" not in content


def test_the_scan_hook_refuses_an_infected_file(make_case, cast, settings):
    from kompass.cases.attachments import Upload

    settings.KOMPASS_CASES_SCAN_HOOK = "kompass.cases.tests.test_services.infected"
    case = make_case(attachments=[Upload("ok.txt", b"hei")])
    assert case.attachments.get().scan == "clean"
    with pytest.raises(CaseError) as error:
        services.add_reply(case, "Se vedlegg", origin=by(cast["requester"]), attachments=[Upload("x.txt", b"EICAR")])
    assert error.value.code == "attachment_infected"
    assert not Reply.objects.filter(case=case).exists()


def test_attachment_size_and_empty_files(make_case, settings):
    from kompass.cases.attachments import Upload

    settings.KOMPASS_CASES_MAX_ATTACHMENT_BYTES = 10
    for upload, code in ((Upload("big.txt", b"x" * 11), "attachment_size"), (Upload("e.txt", b""), "attachment_empty")):
        with pytest.raises(CaseError) as error:
            make_case(attachments=[upload])
        assert error.value.code == code
    assert not Case.objects.exists()


def test_a_watcher_sees_and_replies_but_does_not_answer_for_the_requester(make_case, cast, agencies):
    from kompass.core.models import User

    colleague = User.objects.create_user("kollega@test.example", "x", full_name="Kollega", home_agency=agencies["alfa"])
    case, other = make_case(watchers=[colleague]), make_case()
    assert list(Case.objects.restrict(colleague, "view")) == [case]  # one row, not one per watcher
    services.add_reply(case, "Jeg ser det samme.", origin=by(colleague))
    assert Reply.objects.restrict(colleague, "view").count() == 1
    assert services.allowed_transitions(case, colleague) == []  # withdrawing is the requester's
    with pytest.raises(PermissionDenied):
        services.add_reply(other, "x", origin=by(colleague))


def test_a_change_refused_inside_held_keeps_the_held_changes_before_it(make_case):
    """held(): the move waiting for the block's one save is written before the next move's own savepoint, so a
    refused second move (rolled back to its savepoint) cannot take the first one's save with it."""
    from auditlog.models import LogEntry

    case = make_case()
    system = ChangeOrigin.by_system()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        with services.held(locked):
            services.transition(locked, Case.State.IN_PROGRESS, origin=system)
            with pytest.raises(CaseError):
                services.transition(locked, Case.State.RESOLVED, origin=system)  # no resolution: refused
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS
    assert list(case.changes.filter(kind="state").values_list("detail__to", flat=True)) == ["in_progress"]
    entries = LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.UPDATE).order_by("-pk")
    assert entries[0].changes_dict["state"] == ["new", "in_progress"]
