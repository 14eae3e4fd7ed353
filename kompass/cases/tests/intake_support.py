"""Real messages for the intake tests, built with the stdlib ``email`` package in the shapes real clients send,
and a fake cases app that wires the intake the way the real one will."""

from __future__ import annotations

import email
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

from kompass.cases.intake import InboundMessage, Outcome, find_reply_reference, notification_headers

DESK = "servicedesk@kommune.example"
KARI = "kari.nordmann@bydel-alfa.kommune.example"
OLA = "ola.hansen@gmail.example"
REF = "KOM-2026-000123"
CET = timezone(timedelta(hours=1))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 16


def _base(sender: str, to: str, subject: str, *, name: str = "", when: int = 0) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f'"{name}" <{sender}>' if name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 12, 1, 10, when, tzinfo=CET))
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    return msg


def notification(recipient: str = KARI, reference: str = REF) -> EmailMessage:
    """What Kompass sends: a notification with the reply headers (and our X-Kompass-* loop marker)."""
    msg = EmailMessage()
    for key, value in notification_headers(reference, recipient, desk_address=DESK).items():
        msg[key] = value
    msg["From"] = f'"Kompass servicedesk" <{DESK}>'
    msg["To"] = recipient
    msg["Subject"] = f"[{reference}] Saken er oppdatert"
    msg.set_content("Leverandøren har svart i saken din.\n\nSvar på denne e-posten for å svare i saken.\n")
    return msg


def _reply_headers(msg: EmailMessage, original: EmailMessage) -> None:
    msg["In-Reply-To"] = original["Message-ID"]
    msg["References"] = f"{original['References']} {original['Message-ID']}"


def outlook_reply(original: EmailMessage, *, sender: str = KARI, to: str | None = None) -> EmailMessage:
    """Outlook (nb): text + HTML with an inline signature logo, a "Fra:/Sendt:" header block, Thread-Index."""
    msg = _base(sender, to or str(original["Reply-To"]), f"SV: {original['Subject']}", name="Nordmann, Kari")
    _reply_headers(msg, original)
    msg["Thread-Index"] = "AdnEXAMPLEthreadindex=="
    msg["X-MS-Has-Attach"] = "yes"
    msg["X-MS-TNEF-Correlator"] = ""
    msg["Content-Language"] = "nb-NO"
    msg.set_content(
        "Hei,\n\nTakk, skriveren virker nå. Dere kan lukke saken.\n\n"
        "Med vennlig hilsen\nKari Nordmann\nRådgiver | Bydel Alfa\nTlf. 23 45 67 89\n"
        "[cid:image001.png@01DB4E2A.5F3C1A20]\n\n"
        "________________________________\n"
        "Fra: Kompass servicedesk <servicedesk@kommune.example>\n"
        "Sendt: tirsdag 1. desember 2026 09:12\n"
        "Til: Nordmann, Kari <kari.nordmann@bydel-alfa.kommune.example>\n"
        f"Emne: {original['Subject']}\n\n"
        "Leverandøren har svart i saken din.\n"
    )
    msg.add_alternative(
        "<html><head><style>p{margin:0}</style></head><body>"
        "<p>Hei,</p><p>Takk, skriveren virker nå. Dere kan lukke saken.</p>"
        "<p>Med vennlig hilsen<br>Kari Nordmann<br>Rådgiver | Bydel Alfa<br>Tlf. 23 45 67 89<br>"
        '<img src="cid:image001.png@01DB4E2A.5F3C1A20" alt="Oslo kommune"></p>'
        '<div id="divRplyFwdMsg"><hr><b>Fra:</b> Kompass servicedesk &lt;servicedesk@kommune.example&gt;<br>'
        "<b>Sendt:</b> tirsdag 1. desember 2026 09:12<br><b>Til:</b> Nordmann, Kari<br>"
        f"<b>Emne:</b> {original['Subject']}</div><p>Leverandøren har svart i saken din.</p></body></html>",
        subtype="html",
    )
    html = msg.get_payload()[1]
    html.add_related(PNG, maintype="image", subtype="png", cid="<image001.png@01DB4E2A.5F3C1A20>",
                     filename="image001.png", disposition="inline")  # fmt: skip
    return msg


def gmail_reply(original: EmailMessage, *, sender: str = OLA, to: str | None = None) -> EmailMessage:
    """Gmail (nb): text + HTML, the attribution line wrapped over two lines, ``>`` quoting, a gmail_quote div."""
    msg = _base(sender, to or str(original["Reply-To"]), f"Re: {original['Subject']}", name="Ola Hansen", when=5)
    _reply_headers(msg, original)
    msg.set_content(
        "Hei!\n\nJeg får fortsatt feilmelding når jeg logger inn.\n\n"
        "Den tir. 1. des. 2026 kl. 10:00 skrev Kompass servicedesk <\n"
        f"{original['Reply-To']}>:\n\n"
        "> Leverandøren har svart i saken din.\n>\n> Svar på denne e-posten for å svare i saken.\n"
    )
    msg.add_alternative(
        '<div dir="ltr">Hei!<div><br></div><div>Jeg får fortsatt feilmelding når jeg logger inn.</div></div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Den tir. 1. des. 2026 kl. 10:00 skrev Kompass '
        "servicedesk &lt;servicedesk@kommune.example&gt;:<br></div>"
        '<blockquote class="gmail_quote">Leverandøren har svart i saken din.</blockquote></div>',
        subtype="html",
    )
    return msg


def html_only(sender: str = KARI, to: str = DESK) -> EmailMessage:
    msg = _base(sender, to, "Skjermen er svart", name="Kari Nordmann", when=10)
    msg.set_content(
        "<html><head><title>x</title><script>alert('x')</script></head><body>"
        "<p>Skjermen min er svart &amp; PC&nbsp;en piper.</p><ul><li>Rom 3.14</li><li>PC-nr 4711</li></ul>"
        "<p>Hilsen Kari</p><blockquote><p>Tidligere melding</p></blockquote></body></html>",
        subtype="html",
    )
    return msg


def gmail_forward(sender: str = OLA, to: str = DESK) -> EmailMessage:
    msg = _base(sender, to, "Fwd: Feil i fakturasystemet", name="Ola Hansen", when=15)
    msg.set_content(
        "Se under, kan dere hjelpe?\n\n"
        "---------- Forwarded message ---------\n"
        "From: Per Leverandør <per@leverandor.example>\nDate: Mon, Nov 30, 2026 at 4:12 PM\n"
        "Subject: Feil i fakturasystemet\nTo: <ola.hansen@gmail.example>\n\n"
        "Fakturasystemet avviser alle fakturaer med KID.\n"
    )
    return msg


def outlook_forward_attached(sender: str = KARI, to: str = DESK) -> EmailMessage:
    """Outlook ``VS:`` with the original attached as message/rfc822."""
    msg = _base(sender, to, "VS: Tilgang til Visma", name="Kari Nordmann", when=16)
    msg.set_content("Videresender, se vedlagt.\n")
    inner = _base("leder@bydel-alfa.kommune.example", KARI, "Tilgang til Visma")
    inner.set_content("Kan du bestille tilgang til Visma for den nye ansatte?\n")
    msg.add_attachment(inner)
    return msg


def outlook_out_of_office(original: EmailMessage, *, subject_only: bool = False) -> EmailMessage:
    msg = _base(KARI, DESK, f"Automatisk svar: {original['Subject']}", name="Nordmann, Kari", when=1)
    _reply_headers(msg, original)
    if not subject_only:
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
        msg["X-MS-Exchange-Inbox-Rules-Loop"] = KARI
    msg.set_content("Jeg er på ferie til 14. desember. I hastesaker, kontakt servicedesk.\n")
    return msg


def rfc3834_auto_reply(sender: str = OLA) -> EmailMessage:
    msg = _base(sender, DESK, "Re: din henvendelse", when=2)
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("I'm away until next week.\n")
    return msg


def bounce(original: EmailMessage) -> MIMEMultipart:
    """A Postfix-style delivery status notification (RFC 3464), built with ``email.mime``."""
    msg = MIMEMultipart("report", report_type="delivery-status")
    msg["From"] = "MAILER-DAEMON@mx.kommune.example (Mail Delivery System)"
    msg["To"] = DESK
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Return-Path"] = "<>"
    msg["Message-ID"] = make_msgid(domain="mx.kommune.example")
    msg.attach(MIMEText("This is the mail system at host mx.kommune.example.\n\nI'm sorry to have to inform you...\n"))
    msg.attach(_status_part())
    msg.attach(MIMEMessage(email.message_from_bytes(original.as_bytes())))
    return msg


def _status_part() -> MIMEBase:
    part = MIMEBase("message", "delivery-status")
    blocks = []
    for fields in (
        {"Reporting-MTA": "dns; mx.kommune.example"},
        {"Final-Recipient": "rfc822; nobody@nowhere.example", "Action": "failed", "Status": "5.1.1"},
    ):
        block = Message()
        for key, value in fields.items():
            block[key] = value
        blocks.append(block)
    part.set_payload(blocks)
    return part


def with_attachments(sender: str = KARI, to: str = DESK) -> EmailMessage:
    """RFC 2047 subject, a PDF with an æøå name (RFC 2231), an Outlook-style RFC 2047 filename, an inline image."""
    msg = _base(sender, to, "Søknad om tilgang – økonomi og lønn (Tromsø-kontoret)", name="Kåre Ødegård", when=20)
    msg.set_content("Se vedlagt skjema og skjermbilde.\n")
    msg.add_alternative('<p>Se vedlagt skjema og skjermbilde.</p><img src="cid:skjerm@bydel">', subtype="html")
    msg.get_payload()[1].add_related(PNG, maintype="image", subtype="png", cid="<skjerm@bydel>")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="Søknadsskjema æøå.pdf")
    msg.add_attachment(b"col1;col2\n", maintype="text", subtype="csv", filename="lønn.csv")
    raw = msg.as_bytes().replace(
        b"filename*=utf-8''l%C3%B8nn.csv", b'filename="=?utf-8?b?bMO4bm4uY3N2?="'
    )  # how Outlook encodes a non-ASCII file name
    return raw


@dataclass
class FakeCases:
    """The cases app in miniature: known users, cases with participants, replies keyed by Message-ID."""

    users: set[str] = field(default_factory=lambda: {KARI, OLA})
    participants: dict[str, set[str]] = field(default_factory=lambda: {REF: {KARI, OLA}})
    replies: dict[str, tuple[str, str]] = field(default_factory=dict)  # Message-ID -> (reference, text)
    cases: dict[str, str] = field(default_factory=dict)  # Message-ID -> subject
    crash_before_commit: int = 0  # the next N calls raise before committing
    crash_after_commit: int = 0  # the next N calls commit, then raise (the mailbox is not marked)
    calls: int = 0

    def is_participant(self, reference: str, address: str) -> bool:
        return address in self.participants.get(reference, set())

    def already_processed(self, message_id: str) -> bool:
        return message_id in self.replies or message_id in self.cases

    def handle(self, message: InboundMessage) -> Outcome:
        self.calls += 1
        if self.crash_before_commit:
            self.crash_before_commit -= 1
            raise RuntimeError("database went away")
        lookup = find_reply_reference(message, is_participant=self.is_participant)
        if lookup.match:
            # The unique Message-ID column: a second delivery of the same message changes nothing.
            self.replies.setdefault(message.message_id, (lookup.match.reference, message.new_text))
            outcome = Outcome.reply_posted(lookup.match.reference)
        elif lookup.refused:
            return Outcome.refused("unverified_reply")
        elif message.sender is None or message.sender.address not in self.users:
            return Outcome.refused("unknown_sender")
        else:
            self.cases.setdefault(message.message_id, message.subject)
            outcome = Outcome.case_opened(f"KOM-2026-{len(self.cases):06d}")
        if self.crash_after_commit:
            self.crash_after_commit -= 1
            raise RuntimeError("worker killed after commit")
        return outcome
