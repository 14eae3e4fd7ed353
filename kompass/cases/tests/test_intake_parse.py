"""Parsing real-shaped messages: headers, new text, attachments, and what is ignored."""

from email.message import EmailMessage

import pytest

from kompass.cases.intake import MessageKind, parse_message
from kompass.cases.intake.html import html_to_text
from kompass.cases.intake.quotes import extract_new_text
from kompass.cases.tests import intake_support as mail


def parse(msg):
    return parse_message(msg if isinstance(msg, bytes) else msg.as_bytes())


def test_it_parses_an_outlook_reply():
    original = mail.notification()
    message = parse(mail.outlook_reply(original))
    assert message.kind is MessageKind.NORMAL and not message.ignored
    assert message.sender.address == mail.KARI
    assert message.sender.name == "Nordmann, Kari"
    assert message.subject.startswith("SV: [KOM-2026-000123]")
    assert message.in_reply_to == original["Message-ID"]
    assert message.references[-1] == original["Message-ID"]
    assert message.date.isoformat() == "2026-12-01T10:00:00+01:00"
    assert message.new_text == "Hei,\n\nTakk, skriveren virker nå. Dere kan lukke saken."
    assert "Fra: Kompass servicedesk" in message.text  # the whole text is kept too
    assert [image.content_id for image in message.inline_images] == ["image001.png@01DB4E2A.5F3C1A20"]
    assert message.attachments == ()


def test_it_strips_the_wrapped_gmail_attribution_and_quotes():
    message = parse(mail.gmail_reply(mail.notification(mail.OLA)))
    assert message.new_text == "Hei!\n\nJeg får fortsatt feilmelding når jeg logger inn."


def test_it_converts_html_only_mail_safely():
    message = parse(mail.html_only())
    assert "alert" not in message.text and "<" not in message.text
    assert message.text.splitlines()[:4] == ["Skjermen min er svart & PC en piper.", "", "- Rom 3.14", "- PC-nr 4711"]
    assert "> Tidligere melding" in message.text
    assert message.new_text == "Skjermen min er svart & PC en piper.\n\n- Rom 3.14\n- PC-nr 4711\n\nHilsen Kari"


def test_it_keeps_forwarded_content():
    message = parse(mail.gmail_forward())
    assert message.forwarded
    assert "Fakturasystemet avviser alle fakturaer med KID." in message.new_text


def test_it_keeps_an_attached_forward_as_an_eml_file():
    message = parse(mail.outlook_forward_attached())
    assert message.forwarded
    (attachment,) = message.attachments
    assert attachment.filename == "Tilgang til Visma.eml"
    assert attachment.content_type == "message/rfc822"
    assert b"Kan du bestille tilgang" in attachment.content


def test_it_decodes_norwegian_subjects_and_file_names():
    raw = mail.with_attachments()
    assert b"=?utf-8?" in raw  # really encoded on the wire
    message = parse(raw)
    assert message.subject == "Søknad om tilgang – økonomi og lønn (Tromsø-kontoret)"
    assert message.sender.name == "Kåre Ødegård"
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("Søknadsskjema æøå.pdf", "application/pdf"),
        ("lønn.csv", "text/csv"),
    ]
    assert message.attachments[0].content == mail.PDF
    (image,) = message.inline_images
    assert (image.content_id, image.content_type, image.content) == ("skjerm@bydel", "image/png", mail.PNG)
    assert message.new_text == "Se vedlagt skjema og skjermbilde."


def test_it_decodes_an_iso_8859_1_subject_and_body():
    raw = (
        b"From: =?iso-8859-1?q?P=E5l_S=F8rensen?= <pal@example.no>\r\nTo: servicedesk@kommune.example\r\n"
        b"Subject: =?iso-8859-1?q?Fr=E5_Bod=F8?=\r\nMessage-ID: <1@example.no>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBl\xe5b\xe6r\r\n"
    )
    message = parse(raw)
    assert (message.subject, message.sender.name, message.text) == ("Frå Bodø", "Pål Sørensen", "Blåbær")


@pytest.mark.parametrize(
    ("build", "kind", "reason"),
    [
        (lambda: mail.outlook_out_of_office(mail.notification()), MessageKind.AUTO_REPLY, "Auto-Submitted"),
        (lambda: mail.outlook_out_of_office(mail.notification(), subject_only=True), MessageKind.AUTO_REPLY, "subject"),
        (mail.rfc3834_auto_reply, MessageKind.AUTO_REPLY, "Auto-Submitted: auto-replied"),
        (lambda: mail.bounce(mail.notification()), MessageKind.BOUNCE, "delivery-status"),
        (mail.notification, MessageKind.OWN, "X-Kompass"),
    ],
    ids=["outlook-ooo", "ooo-subject-only", "rfc3834", "bounce", "own-mail"],
)
def test_it_recognises_mail_that_must_be_ignored(build, kind, reason):
    message = parse(build())
    assert message.kind is kind
    assert reason in message.kind_reason
    assert message.ignored


@pytest.mark.parametrize(
    ("header", "value", "kind"),
    [
        ("Auto-Submitted", "no", MessageKind.NORMAL),
        ("Auto-Submitted", "auto-generated; owner-email=x@y", MessageKind.AUTO_REPLY),
        ("X-Autoreply", "yes", MessageKind.AUTO_REPLY),
        ("X-Autorespond", "vacation", MessageKind.AUTO_REPLY),
        ("Precedence", "bulk", MessageKind.AUTO_REPLY),
        ("Precedence", "list", MessageKind.AUTO_REPLY),
        ("Precedence", "first-class", MessageKind.NORMAL),
        ("X-Auto-Response-Suppress", "OOF, AutoReply", MessageKind.NORMAL),  # a request, not a sign (see classify)
        ("X-Failed-Recipients", "nobody@example.no", MessageKind.BOUNCE),
        ("X-Kompass-Origin", "notification", MessageKind.OWN),
    ],
)
def test_it_classifies_by_header(header, value, kind):
    msg = mail.html_only()
    msg[header] = value
    assert parse(msg).kind is kind


def test_suppress_header_stops_bounces_but_not_intake():
    msg = mail.html_only()
    msg["X-Auto-Response-Suppress"] = "All"
    message = parse(msg)
    assert message.kind is MessageKind.NORMAL
    assert message.suppress_auto_responses


def test_a_legitimate_subject_about_absence_is_not_an_auto_reply():
    msg = mail.html_only()
    msg.replace_header("Subject", "Fraværsregistrering virker ikke")
    assert parse(msg).kind is MessageKind.NORMAL


def test_a_message_without_message_id_gets_a_stable_one():
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = mail.KARI, mail.DESK, "Uten id"
    msg.set_content("hei")
    first, second = parse(msg), parse(msg)
    assert first.message_id == second.message_id
    assert first.message_id.startswith("<sha256.") and first.message_id.endswith("@kompass.invalid>")


def test_broken_input_does_not_raise():
    raw = (
        b"From: <<<\r\nSubject: =?x-unknown?q?abc?=\r\n"
        b"Content-Type: text/plain; charset=x-bogus\r\n\r\n\xff\xfe hei\r\n"
    )
    message = parse(raw)
    assert message.sender is None
    assert "hei" in message.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ja.\n\n-----Original Message-----\nFrom: a\nSent: b\n\nold", "Ja."),
        ("Ja.\n\n-----Opprinnelig melding-----\nFra: a\nSendt: b\n\ngammel", "Ja."),
        ("Ja.\n\nFrom: Kompass <k@x>\nSent: Tuesday, December 1, 2026 9:12 AM\nTo: me\n\nold", "Ja."),
        ("Yes.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Kompass <k@x> wrote:\n> old", "Yes."),
        ("Ja.\n\ntir. 1. des. 2026 kl. 10:00 skrev Kompass <k@x>:\n> gammel", "Ja."),
        ("Ja takk.\n\n-- \nOla Hansen\nTlf 99", "Ja takk."),
        ("Ja takk.\n\nSendt fra min iPhone", "Ja takk."),
        ("Yes.\n\nSent from my iPhone\n\n> old", "Yes."),
        ("Ja.\n\nHent Outlook for Android", "Ja."),
        ("> spørsmål 1\nsvar 1\n> spørsmål 2\nsvar 2", "svar 1\nsvar 2"),
        ("Ja.\n\nMvh\nOla", "Ja."),
        ("Mvh\nOla", "Mvh\nOla"),  # nothing but the sign-off: keep it
        ("Jeg skrev: Fra: min side er dette viktig.", "Jeg skrev: Fra: min side er dette viktig."),
    ],
)
def test_new_text_rules(text, expected):
    assert extract_new_text(text) == expected


def test_html_to_text_handles_tables_breaks_and_entities():
    html = "<table><tr><td>Navn</td><td>Ola</td></tr></table><p>a<br/>b &lt;c&gt;</p><pre>  x\n  y</pre>"
    assert html_to_text(html) == "Navn | Ola\n\na\nb <c>\n\n  x\n  y"


@pytest.mark.parametrize("build", [mail.outlook_reply, mail.gmail_reply], ids=["outlook", "gmail"])
def test_html_only_replies_are_stripped_like_text_replies(build):
    reply = build(mail.notification())
    html = reply.get_body(preferencelist=("html",)).get_content()
    del reply["Content-Type"], reply["MIME-Version"]
    reply.set_content(html, subtype="html")
    message = parse(reply)
    assert message.html and "Leverandøren har svart" in message.text
    assert "Leverandøren" not in message.new_text
    assert message.new_text.startswith("Hei")


def test_html_to_text_keeps_link_targets():
    html = '<p>Se <a href="https://x.example/sak">saken</a>, <a href="https://y.example">https://y.example</a></p>'
    assert html_to_text(html) == "Se saken <https://x.example/sak>, https://y.example"
