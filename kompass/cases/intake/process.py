"""One run of the intake: every pending message of a mailbox to the handler, at least once, and never lost.

For each pending message, oldest first:

1. parse it (:func:`~kompass.cases.intake.parse.parse_message` never raises);
2. if ``seen_store.already_processed(message_id)``: mark it processed in the mailbox, skip (a duplicate, or a
   run that crashed after the handler committed but before the mailbox was marked);
3. auto-replies, bounces and our own mail: marked processed, never handed on, never answered;
4. ``handler(message) -> Outcome``: the handler opens a case or posts a reply **and commits its own
   transaction**; a refusal makes us send the bilingual bounce (:mod:`~kompass.cases.intake.bounce`);
5. ``seen_store.remember(message_id, outcome)``, then ``mailbox.mark_processed``.

Delivery to the handler is therefore *at least once*: a crash between the handler's commit and step 5 hands the
same message to the handler again on the next run. The handler must be idempotent by Message-ID; the cases
app stores the Message-ID of each reply and each case opened by e-mail in a unique column, answers
``already_processed`` from those columns, and treats an ``IntegrityError`` on them as "already done".

A handler exception leaves the message pending for the next run and counts an attempt in the seen store;
after ``max_attempts`` the message is moved aside (:meth:`Mailbox.mark_failed`), kept for a person to look at,
so one poisonous message cannot block the mailbox. A :class:`MailboxError` (server gone) stops the run.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from kompass.cases.intake.bounce import send_bounce
from kompass.cases.intake.mailboxes import Mailbox
from kompass.cases.intake.parse import InboundMessage, MessageKind, fallback_message_id, parse_message

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "Action",
    "InMemorySeenStore",
    "Outcome",
    "RunReport",
    "SeenStore",
    "process_mailbox",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5


class Action(StrEnum):
    REPLY_POSTED = "reply_posted"
    CASE_OPENED = "case_opened"
    REFUSED = "refused"  # a bounce is sent (unless that could loop)
    IGNORED = "ignored"  # auto-replies, bounces, own mail, or the handler's own choice
    DUPLICATE = "duplicate"  # already processed (by Message-ID)
    FAILED = "failed"  # the handler raised; pending again (or moved aside after max_attempts)


@dataclass(frozen=True)
class Outcome:
    """What the handler did with a message."""

    action: Action
    reference: str = ""  # the case the reply went to, or the case opened
    reason: str = ""  # for refusals: a key of ``REFUSAL_REASONS``; for ignored: free text

    @classmethod
    def reply_posted(cls, reference: str) -> Outcome:
        return cls(Action.REPLY_POSTED, reference)

    @classmethod
    def case_opened(cls, reference: str) -> Outcome:
        return cls(Action.CASE_OPENED, reference)

    @classmethod
    def refused(cls, reason: str = "not_accepted") -> Outcome:
        return cls(Action.REFUSED, reason=reason)

    @classmethod
    def ignored(cls, reason: str = "") -> Outcome:
        return cls(Action.IGNORED, reason=reason)


class SeenStore(Protocol):
    """What the intake remembers between runs, keyed by Message-ID (the cases app implements it on its tables)."""

    def already_processed(self, message_id: str) -> bool:
        """True once the handler's effect for this Message-ID is committed (or it was ignored or refused)."""
        ...

    def remember(self, message_id: str, outcome: Outcome) -> None:
        """Called after the handler returned (its own rows already hold the Message-ID for posts and cases)."""
        ...

    def record_failure(self, message_id: str, error: str) -> int:
        """Count one failed attempt; return the number of attempts so far."""
        ...


class InMemorySeenStore:
    """A :class:`SeenStore` for tests and one-off runs: lives as long as the object."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.failures: Counter[str] = Counter()
        self.errors: dict[str, str] = {}

    def already_processed(self, message_id: str) -> bool:
        return message_id in self.outcomes

    def remember(self, message_id: str, outcome: Outcome) -> None:
        self.outcomes[message_id] = outcome

    def record_failure(self, message_id: str, error: str) -> int:
        self.failures[message_id] += 1
        self.errors[message_id] = error
        return self.failures[message_id]


@dataclass(frozen=True)
class Processed:
    key: str
    message_id: str
    action: Action
    reference: str = ""
    reason: str = ""
    bounced: bool = False


@dataclass
class RunReport:
    mailbox: str
    items: list[Processed] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for item in self.items if item.action is action)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(str(item.action) for item in self.items))


Handler = Callable[[InboundMessage], Outcome]


def _own(message: InboundMessage, own_addresses: Iterable[str]) -> bool:
    own = {address.lower() for address in own_addresses}
    return message.sender is not None and message.sender.address in own


def process_mailbox(
    mailbox: Mailbox,
    handler: Handler,
    *,
    seen_store: SeenStore,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    own_addresses: Iterable[str] = (),
    bounce_from: str | None = None,
    portal_url: str = "",
    limit: int | None = None,
    on_bounce: Callable[[bytes], object] | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> RunReport:
    """Process up to ``limit`` pending messages of ``mailbox`` (see the module docstring for the guarantees).

    ``own_addresses``: the intake's own addresses; mail *from* them is treated as our own mail (a loop).
    ``bounce_from``: the From of refusals (default ``DEFAULT_FROM_EMAIL``).
    ``on_bounce(raw)``: told of every bounce before it is marked processed (the cases app marks the ledger row
    of the e-mail that bounced); it runs at least once per bounce, so it must be idempotent.
    ``keep_going()``: asked before every message after the first (the job renews its lease there); ``False``
    ends the run, leaving the rest pending.
    """
    own_addresses = tuple(own_addresses)
    report = RunReport(mailbox.name)
    with mailbox:
        for index, stored in enumerate(mailbox.pending()):
            if limit is not None and index >= limit:
                break
            if index and keep_going is not None and not keep_going():
                logger.warning("Intake %s: the run lost its lease; the rest waits for the next run", mailbox.name)
                break
            try:
                message = parse_message(stored.raw)
            except Exception as exc:  # a parser bug, not bad input (which parses best-effort): retry, then set aside
                mid = fallback_message_id(stored.raw)
                attempts = seen_store.record_failure(mid, f"parse: {type(exc).__name__}: {exc}")
                logger.exception("Intake %s: cannot parse message %s", mailbox.name, stored.key)
                if attempts >= max_attempts:
                    mailbox.mark_failed(stored.key)
                report.items.append(Processed(stored.key, mid, Action.FAILED, reason=f"parse: {exc}"))
                continue
            mid = message.message_id
            if seen_store.already_processed(mid):
                mailbox.mark_processed(stored.key)
                report.items.append(Processed(stored.key, mid, Action.DUPLICATE))
                continue
            if message.ignored or _own(message, own_addresses):
                reason = message.kind_reason if message.ignored else f"from our own address {message.sender}"
                kind = message.kind if message.ignored else MessageKind.OWN
                outcome = Outcome.ignored(f"{kind}: {reason}")
                if kind is MessageKind.BOUNCE:
                    # Never answered, but the e-mail it reports marks its ledger row ("bounced").
                    if on_bounce is not None:
                        on_bounce(stored.raw)
                logger.info("Intake %s: ignored %s (%s)", mailbox.name, mid, outcome.reason)
                seen_store.remember(mid, outcome)
                mailbox.mark_processed(stored.key)
                report.items.append(Processed(stored.key, mid, Action.IGNORED, reason=outcome.reason))
                continue
            try:
                outcome = handler(message)
                bounced = False
                if outcome.action is Action.REFUSED:
                    bounced = send_bounce(message, outcome.reason, from_email=bounce_from, portal_url=portal_url)
            except Exception as exc:
                attempts = seen_store.record_failure(mid, f"{type(exc).__name__}: {exc}")
                logger.exception("Intake %s: %s failed (attempt %s of %s)", mailbox.name, mid, attempts, max_attempts)
                if attempts >= max_attempts:
                    mailbox.mark_failed(stored.key)
                    logger.error("Intake %s: %s moved aside after %s attempts", mailbox.name, mid, attempts)
                report.items.append(Processed(stored.key, mid, Action.FAILED, reason=f"{type(exc).__name__}: {exc}"))
                continue
            seen_store.remember(mid, outcome)
            mailbox.mark_processed(stored.key)
            logger.info("Intake %s: %s %s %s", mailbox.name, mid, outcome.action, outcome.reference or outcome.reason)
            report.items.append(Processed(stored.key, mid, outcome.action, outcome.reference, outcome.reason, bounced))
    return report
