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
from kompass.vendors.transports.email import parse_reply

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


def vendor_reply(case, body, *, sender=DESK, message_id="<r1@vendor.example>", attachment=None):
    message = EmailMessage()
    message["From"] = f"Leverandørens servicedesk <{sender}>"
    message["To"] = INTAKE
    message["Subject"] = f"RE: [Kompass {case.number}] {case.title}"
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
    assert created.subject == f"[Kompass {case.number}] Skriveren er borte"
    assert created.extra_headers["X-Kompass-Correlation"] == case.number
    assert f"Kompass-Correlation: {case.number}" in created.body and "Operation: create" in created.body
    services.add_reply(case, "Gjelder 3. etasje.", origin=ChangeOrigin.by_user(cast["desk"]))
    services.add_note(case, "Intern: ikke send.", origin=ChangeOrigin.by_user(cast["desk"]))
    drain()
    comments = [m for m in mail.outbox if m.to == [DESK] and m.extra_headers["X-Kompass-Operation"] == "comments"]
    assert len(comments) == 1 and "Gjelder 3. etasje." in comments[0].body and "[kompass:reply:" in comments[0].body
    assert not [m for m in mail.outbox if "Intern: ikke send." in m.body]

    raw = vendor_reply(
        case,
        "Ticket: VND-42\nState: Resolved\nClose code: Solved (Permanently)\nClose notes: Byttet toner.\n\n"
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
