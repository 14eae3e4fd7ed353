"""Reply tokens: which case a reply belongs to, and how far to trust that.

A token signs a case reference *and* the recipient the notification went to::

    servicedesk+kom-2026-000123.k3q5x7a2m4c6e8g1@kommune.example          (Reply-To of a notification)
    <kompass.case.KOM-2026-000123.k3q5x7a2m4c6e8g1@kommune.example>        (thread root in References)

The signature is an HMAC-SHA256 (Django's ``salted_hmac``: ``SECRET_KEY``, then each of
``SECRET_KEY_FALLBACKS`` when verifying, so a key rotation does not orphan open threads) over
``reference + recipient``, base32 and truncated to 16 characters (80 bits). Not ``signing.Signer``: its base64
signature is case-sensitive (mail systems and people change the case of addresses) and too long for the 64
characters a local part may have.

Trust levels (:class:`Trust`), strongest first:

``SIGNED``
    A token in To/Cc/Delivered-To (plus-addressing) or In-Reply-To/References verifies for the reference and the
    sender's address: the reply comes from the person we wrote to. Post it.
``PARTICIPANT``
    The reference is only *claimed*: a ``[KOM-2026-000123]`` tag in the subject, or a token whose signature does
    not match this sender (a forward to a colleague, a reply from another alias). Accepted only when the
    ``is_participant(reference, address)`` callback of the cases app says the sender is a known participant.
(none)
    No reference, or a claimed one from a non-participant: the latter is a refusal (a forged or foreign token),
    the former mail to the service desk that may open a new case.

The From address is not authenticated here; that is the receiving MTA's job (SPF/DKIM/DMARC).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from kompass.cases.intake.parse import InboundMessage

__all__ = [
    "REFERENCE_PATTERN",
    "ReplyLookup",
    "ReplyMatch",
    "Trust",
    "find_reply_reference",
    "make_token",
    "notification_headers",
    "reply_address",
    "subject_with_tag",
    "thread_message_id",
    "verify_token",
]

#: A case reference: ``KOM-2026-000123`` (prefix, year, serial).
REFERENCE_PATTERN = r"[A-Za-z][A-Za-z0-9]{1,9}-\d{4}-\d{1,9}"
_SALT = "kompass.cases.intake.reply-token"
_SIGNATURE_LENGTH = 16
_SIG = rf"[a-zA-Z2-7]{{{_SIGNATURE_LENGTH}}}"
_PLUS_ADDRESS = re.compile(rf"^[^+@\s]+\+(?P<ref>{REFERENCE_PATTERN})\.(?P<sig>{_SIG})@[^@\s]+$")
_THREAD_ID = re.compile(rf"^<kompass\.case\.(?P<ref>{REFERENCE_PATTERN})\.(?P<sig>{_SIG})(?:\.[0-9a-z]+)?@[^>]+>$")
_SUBJECT_TAG = re.compile(rf"\[(?P<ref>{REFERENCE_PATTERN})\]")


class Trust(StrEnum):
    SIGNED = "signed"
    PARTICIPANT = "participant"


@dataclass(frozen=True)
class ReplyMatch:
    reference: str  # upper-case, as the cases app stores it
    trust: Trust
    source: str  # "address", "thread" (In-Reply-To/References) or "subject"


@dataclass(frozen=True)
class ReplyLookup:
    """The result of :func:`find_reply_reference`: a match, or the references claimed but not trusted."""

    match: ReplyMatch | None
    untrusted: tuple[str, ...] = ()  # claimed by a token that failed and the sender is no participant: refuse

    @property
    def refused(self) -> bool:
        return self.match is None and bool(self.untrusted)


# --------------------------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------------------------


def _signature(reference: str, recipient: str, secret: str | bytes) -> str:
    value = f"{reference.upper()}\n{recipient.strip().lower()}"
    digest = salted_hmac(_SALT, value, secret=secret, algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_SIGNATURE_LENGTH]


def make_token(reference: str, recipient: str) -> str:
    """``KOM-2026-000123.<signature>`` for one recipient of one case."""
    return f"{reference.upper()}.{_signature(reference, recipient, settings.SECRET_KEY)}"


def verify_token(reference: str, signature: str, sender: str) -> bool:
    """Whether ``signature`` was made by us for ``reference`` and ``sender`` (current key or a fallback)."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(_signature(reference, sender, key), signature.lower()) for key in keys)


# --------------------------------------------------------------------------------------------------------------
# Headers for outgoing notifications (the notifications app calls these)
# --------------------------------------------------------------------------------------------------------------


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local.split("+")[0], domain


def reply_address(reference: str, recipient: str, *, desk_address: str) -> str:
    """``servicedesk+kom-2026-000123.<sig>@kommune.example``: where ``recipient``'s reply should go."""
    local, domain = _split(desk_address)
    return f"{local}+{make_token(reference, recipient).lower()}@{domain}"


def thread_message_id(reference: str, recipient: str, *, domain: str, unique: bool = False) -> str:
    """The case's thread id for ``recipient`` (stable); ``unique=True`` adds a random part for a Message-ID."""
    suffix = f".{uuid.uuid4().hex[:16]}" if unique else ""
    return f"<kompass.case.{make_token(reference, recipient)}{suffix}@{domain}>"


def subject_with_tag(subject: str, reference: str) -> str:
    tag = f"[{reference.upper()}]"
    return subject if tag in subject else f"{tag} {subject}"


def notification_headers(reference: str, recipient: str, *, desk_address: str) -> dict[str, str]:
    """Headers for one notification about case ``reference`` to ``recipient``.

    Each Message-ID is unique; In-Reply-To and References point at a stable per-case, per-recipient thread root,
    so mail clients thread the notifications and a reply carries the token even when Reply-To is dropped.
    ``Auto-Submitted`` and ``X-Auto-Response-Suppress`` ask responders not to send out-of-office replies to a
    notification; ``X-Kompass-Origin`` makes our own mail recognisable if it comes back (loop protection).
    """
    domain = _split(desk_address)[1]
    root = thread_message_id(reference, recipient, domain=domain)
    return {
        "Message-ID": thread_message_id(reference, recipient, domain=domain, unique=True),
        "In-Reply-To": root,
        "References": root,
        "Reply-To": reply_address(reference, recipient, desk_address=desk_address),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Kompass-Origin": "notification",
        "X-Kompass-Case": reference.upper(),
    }


# --------------------------------------------------------------------------------------------------------------
# Finding the case of an inbound message
# --------------------------------------------------------------------------------------------------------------


def _tokens(message: InboundMessage) -> Iterable[tuple[str, str, str]]:
    """``(reference, signature, source)`` for every token in the message, most specific first."""
    for address in [*message.delivered_to, *(a.address for a in message.to), *(a.address for a in message.cc)]:
        match = _PLUS_ADDRESS.match(address)
        if match:
            yield match["ref"].upper(), match["sig"], "address"
    for message_id in message.thread_ids:
        match = _THREAD_ID.match(message_id)
        if match:
            yield match["ref"].upper(), match["sig"], "thread"


def find_reply_reference(
    message: InboundMessage, *, is_participant: Callable[[str, str], bool] | None = None
) -> ReplyLookup:
    """Which case ``message`` replies to, with the trust level (see the module docstring).

    ``is_participant(reference, address)`` is the cases app's check that ``address`` is the requester or
    another known participant of the case; without it only signed tokens are trusted.
    """
    if message.sender is None:
        return ReplyLookup(None)
    sender = message.sender.address
    claimed: list[tuple[str, str]] = []
    for reference, signature, source in _tokens(message):
        if verify_token(reference, signature, sender):
            return ReplyLookup(ReplyMatch(reference, Trust.SIGNED, source))
        claimed.append((reference, source))
    claimed += [(m["ref"].upper(), "subject") for m in _SUBJECT_TAG.finditer(message.subject)]
    untrusted: list[str] = []
    for reference, source in dict.fromkeys(claimed):
        if is_participant is not None and is_participant(reference, sender):
            return ReplyLookup(ReplyMatch(reference, Trust.PARTICIPANT, source))
        if source != "subject":  # a subject tag alone is no claim: the mail may just mention a case
            untrusted.append(reference)
    return ReplyLookup(None, tuple(dict.fromkeys(untrusted)))
