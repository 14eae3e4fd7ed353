"""E-mail bonding (the second transport, ``transports/email.py``) with real ``email``-package messages: the sync
logic is the ServiceNow one, unchanged; the vendor's replies come in through the cases e-mail intake."""

from email.message import EmailMessage

import pytest
from django.core import mail
from django.test import override_settings

from kompass.cases import services
from kompass.cases.services import ChangeOrigin
from kompass.notifications import services as notifications
from kompass.vendors import reconcile, sync
from kompass.vendors.models import EmailRecord, ServiceRoute, VendorConnection, VendorLink
from kompass.vendors.tests.conftest import drain
from kompass.vendors.transports.email import compose_body, parse_reply, subject_for

pytestmark = pytest.mark.django_db

DESK = "servicedesk@vendor.example"
INTAKE = "kompass@kommune.example"


@pytest.fixture
def bonded(cast, agencies):
    from kompass.core.models import Service

    sync.reset_transports()
    connection = VendorConnection.objects.create(
        name="Epostleverandør",
        kind="email",
        service_desk_email=DESK,
        base_url="https://vendor.example",
        username="-",
        secret_env="UNUSED_SECRET",
    )
    service = Service.objects.create(name="Levert på e-post", delivery="vendor")
    ServiceRoute.objects.create(service=service, connection=connection)
    requester = cast["requester"]
    case = services.create_case(
        requester=requester, service=service, title="Skriveren er borte", origin=ChangeOrigin.by_user(requester)
    )
    drain()
    yield case, VendorLink.objects.get(case=case)
    sync.reset_transports()


def vendor_reply(case, body, *, sender=DESK, message_id="<r1@vendor.example>", attachment=None, subject=""):
    message = EmailMessage()
    message["From"] = f"Leverandørens servicedesk <{sender}>"
    message["To"] = INTAKE
    message["Subject"] = subject or f"RE: [KOMPASS-REF:{case.number}] {case.title}"
    message["Message-ID"] = message_id
    message["Date"] = "Wed, 02 Dec 2026 10:00:00 +0100"
    message.set_content(body)
    if attachment:
        message.add_attachment(attachment[1].encode(), maintype="text", subtype="plain", filename=attachment[0])
    return message.as_bytes()


@override_settings(KOMPASS_INTAKE_ADDRESS=INTAKE)
def test_a_case_goes_out_as_a_structured_mail_and_the_vendor_reply_comes_back_through_the_intake(bonded, cast):
    case, link = bonded
    assert link.sync_state == "linked" and link.sys_id
    (created,) = [m for m in mail.outbox if m.to == [DESK]]
    assert created.subject == f"[KOMPASS-REF:{case.number}] Skriveren er borte"
    assert created.extra_headers["X-Kompass-Correlation"] == case.number
    assert created.body.startswith(f"Kompass-Ref: {case.number}\nOperation: create\nTitle: Skriveren er borte\n")
    services.add_reply(case, "Gjelder 3. etasje.", origin=ChangeOrigin.by_user(cast["desk"]))
    services.add_note(case, "Intern: ikke send.", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()
    comments = [m for m in mail.outbox if m.to == [DESK] and m.extra_headers["X-Kompass-Operation"] == "comments"]
    assert len(comments) == 1 and "Gjelder 3. etasje." in comments[0].body and "[kompass:reply:" in comments[0].body
    assert not [m for m in mail.outbox if "Intern: ikke send." in m.body]

    raw = vendor_reply(
        case,
        "Vendor-Ref: VND-42\nState: Resolved\nClose code: Solved (Permanently)\nResolution: Byttet toner.\n\n"
        "Vi har byttet toneren.\n\n> Gjelder 3. etasje.\n",
        attachment=("rapport.txt", "Toner byttet kl 10"),
    )
    assert services.receive_email(raw) == ("reply_posted", case.number)
    assert services.receive_email(raw) == ("duplicate", "")  # delivered twice: applied once
    drain()
    case.refresh_from_db()
    link.refresh_from_db()
    assert case.state == "resolved" and "Byttet toner." in case.resolution
    assert link.number == "VND-42"
    assert list(case.replys.filter(origin="vendor").values_list("text", flat=True)) == ["Vi har byttet toneren."]
    assert list(case.attachments.values_list("name", flat=True)) == ["rapport.txt"]
    resolved = {d.key for d in notifications.deliveries_for(case) if d.event == "cases.resolved"}
    assert len(resolved) == 1  # the requester hears of the vendor's resolution exactly once
    assert reconcile.reconcile(trigger="test").attention == 0


@override_settings(KOMPASS_INTAKE_ADDRESS=INTAKE)
def test_mail_from_anyone_but_the_vendor_desk_is_not_taken_as_the_vendor(bonded):
    case, link = bonded
    raw = vendor_reply(case, "State: Resolved\n\nLøst!", sender="noen@annen.example", message_id="<x@annen.example>")
    action, _reference = services.receive_email(raw)
    assert action == "refused"  # the intake's own answer to an unknown sender
    assert EmailRecord.objects.get(sys_id=link.sys_id).mod_count == 0
    case.refresh_from_db()
    assert case.state != "resolved"


def test_a_vendor_reply_is_parsed_by_its_field_lines_codes_or_labels():
    fields, comment, note = parse_reply("State: On Hold\nHold reason: Awaiting Caller\n\nTrenger modellnummer.")
    assert fields == {"state": "3", "hold_reason": "1"} and comment == "Trenger modellnummer." and not note
    fields, comment, note = parse_reply("Work note: yes\nFant feilen i driveren.\nStatus: ikke et felt")
    assert fields == {} and note and comment.startswith("Fant feilen")
    assert parse_reply("Hei!\nState: 6") == ({}, "Hei!\nState: 6", False)  # only lines at the top count


# -- The mail format (docs/e-bonding.md, "The mail format") ---------------------------------------------------
def test_the_composed_mail_is_the_documented_format_and_parses_back():
    assert (
        subject_for("KOM-2026-000123", "", "Skriveren  er borte") == "[KOMPASS-REF:KOM-2026-000123] Skriveren er borte"
    )
    assert (
        subject_for("KOM-2026-000123", "VND-42", "Skriver")
        == "[KOMPASS-REF:KOM-2026-000123] [VENDOR-REF:VND-42] Skriver"
    )
    fields = {"state": "3", "hold_reason": "1", "priority": "2", "close_notes": "To\nlinjer", "contact_type": "email"}
    body = compose_body("KOM-2026-000123", "VND-42", "update", fields, "Teksten.")
    block, text = body.split("\n\n", 1)
    assert block.splitlines() == [
        "Kompass-Ref: KOM-2026-000123",
        "Vendor-Ref: VND-42",
        "Operation: update",
        "State: On Hold",
        "Hold reason: Awaiting Caller",
        "Priority: 2",
        "Resolution: To linjer",
        "contact_type: email",
    ]
    assert text.startswith("Teksten.\n\n-- \n")
    parsed, comment, note = parse_reply(block)  # a vendor who copies the block back sets the same values
    assert parsed == {"number": "VND-42", "state": "3", "hold_reason": "1", "priority": "2", "close_notes": "To linjer"}
    assert comment == "contact_type: email" and not note  # an undocumented key ends the block


def _resolve_through_a_first_reply(case):
    first = vendor_reply(case, "Vendor-Ref: VND-42\nState: In Progress\nImpact: 1\n\nVi ser på det.")
    assert services.receive_email(first) == ("reply_posted", case.number)


QUOTED_BLOCK = compose_body("{number}", "VND-42", "update", {"state": "6", "impact": "3", "close_notes": "Feil."})


def gmail_reply(case, new_text):
    original = QUOTED_BLOCK.replace("{number}", case.number)
    quoted = "\n".join(f"> {line}" if line else ">" for line in original.splitlines())
    return f"{new_text}\n\nOn Wed, 2 Dec 2026 at 10:00, Kompass <{INTAKE}> wrote:\n{quoted}\n"


def outlook_reply(case, new_text):
    original = QUOTED_BLOCK.replace("{number}", case.number)
    return (
        f"{new_text}\r\n\r\n________________________________\r\nFrom: Kompass <{INTAKE}>\r\n"
        f"Sent: Wednesday, December 2, 2026 10:00 AM\r\nTo: {DESK}\r\n"
        f"Subject: [KOMPASS-REF:{case.number}] {case.title}\r\n\r\n{original}\r\n"
    )


@pytest.mark.parametrize("shape", [gmail_reply, outlook_reply], ids=["gmail", "outlook"])
@override_settings(KOMPASS_INTAKE_ADDRESS=INTAKE)
def test_a_reply_quoting_a_kompass_mail_applies_its_new_text_never_the_quoted_block(bonded, shape):
    case, link = bonded
    _resolve_through_a_first_reply(case)
    raw = vendor_reply(case, shape(case, "Vi venter på en del."), message_id="<r2@vendor.example>")
    assert services.receive_email(raw) == ("reply_posted", case.number)
    record = EmailRecord.objects.get(sys_id=link.sys_id)
    assert record.fields["state"] == "2" and record.fields["impact"] == "1" and "close_notes" not in record.fields
    assert [e["value"] for e in record.journal if e["sys_created_by"] == DESK] == [
        "Vi ser på det.",
        "Vi venter på en del.",
    ]
    assert record.mod_count == 2


@pytest.mark.parametrize("shape", [gmail_reply, outlook_reply], ids=["gmail", "outlook"])
@override_settings(KOMPASS_INTAKE_ADDRESS=INTAKE)
def test_a_reply_with_only_the_quote_sets_nothing_and_posts_no_comment(bonded, shape):
    case, link = bonded
    _resolve_through_a_first_reply(case)
    raw = vendor_reply(case, shape(case, ""), message_id="<r3@vendor.example>")
    services.receive_email(raw)
    record = EmailRecord.objects.get(sys_id=link.sys_id)
    assert record.fields["state"] == "2" and record.fields["impact"] == "1" and "close_notes" not in record.fields
    assert [e["value"] for e in record.journal if e["sys_created_by"] == DESK] == ["Vi ser på det."]


@override_settings(KOMPASS_INTAKE_ADDRESS=INTAKE)
def test_replies_are_matched_by_the_vendor_tag_and_the_older_subject_tag(bonded):
    case, link = bonded
    _resolve_through_a_first_reply(case)
    by_vendor = vendor_reply(
        case,
        "State: On Hold\nHold reason: Awaiting Caller",
        subject="SV: [VENDOR-REF:VND-42] Sak VND-42",
        message_id="<r4@vendor.example>",
    )
    assert services.receive_email(by_vendor) == ("reply_posted", case.number)
    assert EmailRecord.objects.get(sys_id=link.sys_id).fields["state"] == "3"
    legacy = vendor_reply(
        case, "State: In Progress", subject=f"RE: [Kompass {case.number}] x", message_id="<r5@vendor.example>"
    )
    assert services.receive_email(legacy) == ("reply_posted", case.number)
    assert EmailRecord.objects.get(sys_id=link.sys_id).fields["state"] == "2"
    unknown = vendor_reply(case, "State: Resolved", subject="SV: [VENDOR-REF:VND-999] x", message_id="<r6@v.example>")
    services.receive_email(unknown)
    assert EmailRecord.objects.get(sys_id=link.sys_id).fields["state"] == "2"  # names no bonded case: not applied


@override_settings(KOMPASS_INTAKE_ADDRESS=INTAKE)
def test_once_the_vendor_number_is_known_kompass_mails_carry_it(bonded, cast):
    case, link = bonded
    _resolve_through_a_first_reply(case)
    mail.outbox.clear()
    services.add_reply(case, "Fortsatt ute av drift.", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()
    (sent,) = [m for m in mail.outbox if m.to == [DESK]]
    assert sent.subject == f"[KOMPASS-REF:{case.number}] [VENDOR-REF:VND-42] Skriveren er borte"
    assert sent.body.startswith(f"Kompass-Ref: {case.number}\nVendor-Ref: VND-42\nOperation: comments\n")
