"""The polite refusal: "we could not accept your message", in bokmål and English in one e-mail.

Never sent to auto-replies, bounces or our own mail, to the null sender, to daemons or no-reply addresses,
when the message asked for no automatic responses (``X-Auto-Response-Suppress``), or when the receiving MTA
marked it as spam or failed its SPF/DKIM/DMARC check (the From is likely forged: no backscatter). The refusal
itself carries ``Auto-Submitted: auto-replied`` (RFC 3834) and ``X-Kompass-Origin``, so responders leave it
alone and, should it come back to the intake mailbox, it is recognised as our own mail and ignored.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kompass.cases.intake.parse import InboundMessage

__all__ = ["REFUSAL_REASONS", "may_bounce", "send_bounce"]

logger = logging.getLogger(__name__)

#: Why a message was refused; the handler returns one of these keys in ``Outcome.refused(reason)``.
REFUSAL_REASONS = {
    "unknown_sender": _("We do not know the address you wrote from, so we cannot register your message."),
    "unverified_reply": _(
        "Your message refers to a case, but we could not confirm that you take part in it. Reply from the address "
        "our message was sent to, or contact the service desk."
    ),
    "case_closed": _("The case you replied to is closed. Please submit a new case instead."),
    "not_accepted": _("We cannot register messages sent this way."),
}
_AUTH_FAILED = re.compile(r"\b(dmarc|spf|dkim)=(fail|softfail)\b", re.IGNORECASE)
_NO_REPLY = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+._-].*)?$", re.IGNORECASE)


def may_bounce(message: InboundMessage) -> bool:
    """Whether a refusal may be sent to the sender of ``message`` without risking a mail loop."""
    if message.ignored or message.sender is None or message.suppress_auto_responses:
        return False
    if message.return_path == "":  # the null sender <>: a bounce or an auto-reply by definition
        return False
    # Refusing spam with a forged From would mail an innocent third party ("backscatter"): trust the MTA's verdict.
    headers = message.headers
    if any(headers.get(name, "").lower().startswith("yes") for name in ("x-spam-flag", "x-spam-status")):
        return False
    if _AUTH_FAILED.search(headers.get("authentication-results", "")):
        return False
    return not _NO_REPLY.match(message.sender.address.split("@")[0])


def _body(message: InboundMessage, reason: str, portal_url: str) -> str:
    lines = [
        _("Hello,"),
        "",
        _("We could not accept your e-mail “%(subject)s”.") % {"subject": message.subject or "-"},
        str(REFUSAL_REASONS.get(reason, REFUSAL_REASONS["not_accepted"])),
        "",
    ]
    if portal_url:
        lines += [_("You can submit and follow cases in the self-service portal: %(url)s") % {"url": portal_url}, ""]
    lines += [_("This is an automatic message. Replies to it are not read.")]
    return "\n".join(str(line) for line in lines)


def send_bounce(
    message: InboundMessage,
    reason: str,
    *,
    from_email: str | None = None,
    portal_url: str = "",
    connection=None,
) -> bool:
    """Send the refusal for ``message`` (bokmål first, then English); return whether one was sent."""
    if not may_bounce(message):
        logger.info("No refusal sent for %s (auto-reply, null sender or suppressed)", message.message_id)
        return False
    parts = {}
    for language in ("nb", "en"):
        with translation.override(language):
            parts[language] = (str(_("Your message was not accepted")), _body(message, reason, portal_url))
    subject = f"{parts['nb'][0]} / {parts['en'][0]}: {message.subject}".strip()
    body = f"{parts['nb'][1]}\n\n-- English --\n\n{parts['en'][1]}\n"
    email = EmailMessage(
        subject=subject[:250],
        body=body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[message.sender.address],
        headers={
            "Auto-Submitted": "auto-replied",
            "X-Auto-Response-Suppress": "All",
            "X-Kompass-Origin": "intake-refusal",
            "In-Reply-To": message.message_id,
            "References": " ".join([*message.references, message.message_id][-10:]),
        },
        connection=connection,
    )
    email.send()
    return True
