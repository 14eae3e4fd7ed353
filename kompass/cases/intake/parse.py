"""From raw RFC 5322 bytes to an :class:`InboundMessage`: headers, text, attachments and what kind of mail it is.

Parsing never raises for bad input: a broken header or charset gives an empty or best-effort value, so one
malformed message cannot stop the mailbox. A message without a Message-ID gets a stable one derived from its
bytes (``<sha256.…@kompass.invalid>``), so duplicates are still recognised.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from enum import StrEnum

from kompass.cases.intake.html import html_to_text
from kompass.cases.intake.quotes import extract_new_text, is_forward

__all__ = [
    "OWN_HEADER_PREFIX",
    "Address",
    "Attachment",
    "InboundMessage",
    "MessageKind",
    "classify",
    "fallback_message_id",
    "parse_message",
]

logger = logging.getLogger(__name__)

#: Every message Kompass sends carries at least one header starting with this (``X-Kompass-Origin``); a message
#: that has one is our own mail coming back and is never ingested.
OWN_HEADER_PREFIX = "x-kompass-"


class MessageKind(StrEnum):
    """What a message is, for the intake: only ``NORMAL`` messages reach the handler."""

    NORMAL = "normal"
    AUTO_REPLY = "auto_reply"  # out of office, vacation responders, RFC 3834 auto-replies, bulk/list mail
    BOUNCE = "bounce"  # delivery status notifications and other reports, mail from MAILER-DAEMON
    OWN = "own"  # our own outgoing mail looping back


@dataclass(frozen=True)
class Address:
    address: str  # lower-cased addr-spec
    name: str = ""

    def __str__(self) -> str:
        return email.utils.formataddr((self.name, self.address)) if self.name else self.address


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""  # without the angle brackets; set for inline images referenced as cid: in the HTML

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class InboundMessage:
    message_id: str  # with angle brackets, as in the header
    subject: str
    sender: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    delivered_to: tuple[str, ...] = ()  # envelope recipients the MTA recorded (Delivered-To, X-Original-To)
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    date: datetime | None = None
    text: str = ""  # the whole plain-text body (converted from HTML for HTML-only mail)
    html: str = ""
    new_text: str = ""  # what the sender wrote now: quotes and signature removed (all of ``text`` for forwards)
    forwarded: bool = False
    attachments: tuple[Attachment, ...] = ()
    inline_images: tuple[Attachment, ...] = ()
    kind: MessageKind = MessageKind.NORMAL
    kind_reason: str = ""  # which header or rule decided ``kind``
    return_path: str | None = None  # None: no Return-Path header; "": the null sender <> (a bounce or auto-reply)
    suppress_auto_responses: bool = False  # X-Auto-Response-Suppress asks us not to answer automatically
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # first value of each header, lower-case keys
    raw: bytes = field(default=b"", repr=False)

    @property
    def ignored(self) -> bool:
        """Auto-replies, bounces and our own mail are never handed to the handler and never answered."""
        return self.kind is not MessageKind.NORMAL

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """In-Reply-To first, then References newest first: where a reply token is most likely to be."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return tuple(dict.fromkeys(ids))


# --------------------------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------------------------

_MSG_ID = re.compile(r"<[^<>\s]+>")


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
        return str(value).strip() if value is not None else ""
    except Exception:  # a header the parser cannot even render: treat as absent
        logger.debug("Unreadable header %s", name, exc_info=True)
        return ""


def _addresses(msg: Message, name: str) -> tuple[Address, ...]:
    found: list[Address] = []
    try:
        values = msg.get_all(name) or []
    except Exception:
        return ()
    for value in values:
        try:
            pairs = [(a.display_name, a.addr_spec) for a in value.addresses]
        except Exception:  # not a structured header (or a broken one): fall back to the lenient parser
            pairs = email.utils.getaddresses([str(value)])
        for display_name, addr in pairs:
            if addr and "@" in addr:
                found.append(Address(addr.strip().lower(), (display_name or "").strip()))
    return tuple(found)


def _message_ids(value: str) -> tuple[str, ...]:
    return tuple(_MSG_ID.findall(value or ""))


def _date(msg: Message) -> datetime | None:
    try:
        value = msg.get("Date")
        return value.datetime if value is not None and value.datetime else None
    except Exception:
        return None


# --------------------------------------------------------------------------------------------------------------
# Kind: auto-replies, bounces, our own mail
# --------------------------------------------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|automatisk svar|auto[- ]?reply|autosvar|out of (the )?office( autoreply)?|"
    r"fravær(smelding)?|ikke til stede|abwesenheitsnotiz)\s*:",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = {"bulk", "junk", "auto_reply", "list"}
_DAEMONS = {"mailer-daemon", "postmaster"}


def classify(msg: Message, sender: Address | None, subject: str) -> tuple[MessageKind, str]:
    """What kind of message this is, and the reason (a header name or rule), from headers only.

    ``X-Auto-Response-Suppress`` is deliberately *not* a sign of an auto-reply: per Microsoft's [MS-OXCMAIL]
    §2.1.3.2.20 it asks the *recipient* not to send automatic responses to the message. Outlook and Exchange set
    it on their own out-of-office replies (which also carry ``Auto-Submitted``), but bulk senders and some
    clients set it on ordinary mail too. It only stops us from bouncing
    (:attr:`InboundMessage.suppress_auto_responses`).
    """
    if any(key.lower().startswith(OWN_HEADER_PREFIX) for key in msg.keys()):
        return MessageKind.OWN, "X-Kompass header"
    content_type = msg.get_content_type()
    if content_type == "multipart/report":
        return MessageKind.BOUNCE, f"multipart/report; report-type={msg.get_param('report-type') or '?'}"
    if content_type in {"message/delivery-status", "message/disposition-notification"}:
        return MessageKind.BOUNCE, content_type
    if sender and sender.address.split("@")[0] in _DAEMONS:
        return MessageKind.BOUNCE, f"From: {sender.address}"
    if _header(msg, "X-Failed-Recipients"):
        return MessageKind.BOUNCE, "X-Failed-Recipients"
    auto_submitted = _header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return MessageKind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated"):
        if name.lower() in {key.lower() for key in msg.keys()}:
            return MessageKind.AUTO_REPLY, name
    precedence = _header(msg, "Precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        return MessageKind.AUTO_REPLY, f"Precedence: {precedence}"
    if _AUTO_SUBJECT.match(subject):
        return MessageKind.AUTO_REPLY, "out-of-office subject"
    return MessageKind.NORMAL, ""


def _suppress_auto_responses(msg: Message) -> bool:
    values = {v.strip().lower() for v in _header(msg, "X-Auto-Response-Suppress").split(",")}
    return bool(values & {"all", "autoreply", "ndr", "dr"})


# --------------------------------------------------------------------------------------------------------------
# Body and attachments
# --------------------------------------------------------------------------------------------------------------


def _content(part: Message) -> str | bytes:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError):  # unknown charset or broken encoding
        payload = part.get_payload(decode=True) or b""
        if part.get_content_maintype() == "text":
            return payload.decode("utf-8", errors="replace")
        return payload


def _text(part: Message | None) -> str:
    if part is None:
        return ""
    content = _content(part)
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _walk(part: Message):
    """Leaf parts, without descending into attached messages (a forwarded message stays one .eml attachment)."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    for child in part.get_payload():
        yield from _walk(child)


def _attachment(part: Message) -> Attachment:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload()[0] if part.is_multipart() else None
        content = inner.as_bytes() if inner is not None else (part.get_payload(decode=True) or b"")
        subject = _header(inner, "Subject") if inner is not None else ""
        default_name = f"{subject or 'message'}.eml"
    else:
        content = _content(part)
        if isinstance(content, str):
            content = content.encode(part.get_content_charset() or "utf-8", errors="replace")
        default_name = ""
    try:
        filename = part.get_filename() or ""
    except Exception:
        filename = ""
    filename = re.sub(r"[\x00-\x1f/\\]", "_", filename).strip() or default_name or "attachment"
    content_id = _header(part, "Content-ID").strip("<> ")
    return Attachment(filename=filename, content_type=content_type, content=content, content_id=content_id)


def _body_and_attachments(msg: EmailMessage) -> tuple[str, str, list[Attachment], list[Attachment]]:
    if msg.get_content_type() == "multipart/report":  # a bounce: only the human-readable part matters
        plain_part = msg.get_body(preferencelist=("plain",))
        return _text(plain_part), "", [], []
    plain_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    html = _text(html_part)
    attachments: list[Attachment] = []
    inline: list[Attachment] = []
    for part in _walk(msg):
        if part is plain_part or part is html_part:
            continue
        disposition = part.get_content_disposition()
        try:
            has_name = bool(part.get_filename())
        except Exception:
            has_name = False
        if part.get_content_maintype() == "text" and disposition != "attachment" and not has_name:
            continue  # another alternative body (e.g. text/enriched, text/calendar without a name)
        attachment = _attachment(part)
        # An image the HTML shows (cid:) is part of the body, whatever its disposition says (clients differ).
        referenced = attachment.content_id and f"cid:{attachment.content_id}" in html
        if part.get_content_maintype() == "image" and (referenced or attachment.content_id and disposition == "inline"):
            inline.append(attachment)
        else:
            attachments.append(attachment)
    text = _text(plain_part) if plain_part is not None else html_to_text(html)
    return text, html, attachments, inline


# --------------------------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------------------------


def fallback_message_id(raw: bytes) -> str:
    """The stable Message-ID of a message that has none (and of one the parser cannot read)."""
    return f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@kompass.invalid>"


def parse_message(raw: bytes) -> InboundMessage:
    """Parse one message as it came from the mailbox."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    ids = _message_ids(_header(msg, "Message-ID"))
    message_id = ids[0] if ids else fallback_message_id(raw)
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    sender = senders[0] if senders else None
    subject = " ".join(_header(msg, "Subject").split())
    kind, reason = classify(msg, sender, subject)
    text, html, attachments, inline = _body_and_attachments(msg)
    text = text.replace("\r\n", "\n").strip("\n")
    forwarded = is_forward(subject, text)
    return_path = None
    if "Return-Path" in msg:
        return_path = _header(msg, "Return-Path").strip("<> ").lower()
    delivered_to = tuple(
        dict.fromkeys(
            addr.lower()
            for name in ("Delivered-To", "X-Original-To", "Envelope-To")
            for _, addr in email.utils.getaddresses([str(v) for v in (msg.get_all(name) or [])])
            if addr
        )
    )
    return InboundMessage(
        message_id=message_id,
        subject=subject,
        sender=sender,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        reply_to=_addresses(msg, "Reply-To"),
        delivered_to=delivered_to,
        in_reply_to=next(iter(_message_ids(_header(msg, "In-Reply-To"))), ""),
        references=_message_ids(_header(msg, "References")),
        date=_date(msg),
        text=text,
        html=html,
        new_text=text if forwarded else extract_new_text(text),
        forwarded=forwarded,
        attachments=tuple(attachments),
        inline_images=tuple(inline),
        kind=kind,
        kind_reason=reason,
        return_path=return_path,
        suppress_auto_responses=_suppress_auto_responses(msg),
        headers={key.lower(): _header(msg, key) for key in dict.fromkeys(msg.keys())},
        raw=raw,
    )
