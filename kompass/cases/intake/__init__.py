"""E-mail intake for the cases app: replies by e-mail become public replies, mail to the service desk opens cases.

No dependency on case models: the cases app plugs in a *handler* (``InboundMessage -> Outcome``) and a
*seen store* (Message-IDs already handled). See ``docs/email-intake.md``.

- :mod:`~kompass.cases.intake.parse`: raw bytes → :class:`InboundMessage` (text, new text, attachments, kind)
- :mod:`~kompass.cases.intake.tokens`: signed reply tokens, headers for outgoing notifications, trust levels
- :mod:`~kompass.cases.intake.mailboxes`: :class:`MaildirMailbox`, :class:`ImapMailbox`, :func:`open_mailbox`
- :mod:`~kompass.cases.intake.process`: :func:`process_mailbox`, :class:`Outcome`, :class:`InMemorySeenStore`
- :mod:`~kompass.cases.intake.bounce`: the bilingual refusal
"""

from kompass.cases.intake.bounce import REFUSAL_REASONS, may_bounce, send_bounce
from kompass.cases.intake.mailboxes import (
    ImapMailbox,
    Mailbox,
    MailboxError,
    MaildirMailbox,
    StoredMessage,
    open_mailbox,
)
from kompass.cases.intake.parse import Address, Attachment, InboundMessage, MessageKind, parse_message
from kompass.cases.intake.process import Action, InMemorySeenStore, Outcome, RunReport, SeenStore, process_mailbox
from kompass.cases.intake.tokens import (
    ReplyLookup,
    ReplyMatch,
    Trust,
    find_reply_reference,
    make_token,
    notification_headers,
    reply_address,
    subject_with_tag,
    thread_message_id,
    verify_token,
)

__all__ = [
    "REFUSAL_REASONS",
    "Action",
    "Address",
    "Attachment",
    "ImapMailbox",
    "InMemorySeenStore",
    "InboundMessage",
    "Mailbox",
    "MailboxError",
    "MaildirMailbox",
    "MessageKind",
    "Outcome",
    "ReplyLookup",
    "ReplyMatch",
    "RunReport",
    "SeenStore",
    "StoredMessage",
    "Trust",
    "find_reply_reference",
    "make_token",
    "may_bounce",
    "notification_headers",
    "open_mailbox",
    "parse_message",
    "process_mailbox",
    "reply_address",
    "send_bounce",
    "subject_with_tag",
    "thread_message_id",
    "verify_token",
]
