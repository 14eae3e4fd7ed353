"""The vendors queue's workers: the outbox (deliver in order per link) and the inbox (apply remote changes)."""

from kompass.core.durable import processor
from kompass.vendors import sync
from kompass.vendors.models import InboxEvent, OutboxMessage


@processor(OutboxMessage, queue="vendors", batch_size=20)
def deliver_outbox(message: OutboxMessage) -> None:
    sync.deliver(message)


@processor(InboxEvent, queue="vendors", batch_size=50)
def process_inbox(event: InboxEvent) -> None:
    sync.process_event(event)
