"""The ledger's worker: delivers pending rows on the ``notifications`` queue (autodiscovered by core)."""

from kompass.core.durable import processor
from kompass.notifications import services
from kompass.notifications.models import Delivery


@processor(Delivery, queue="notifications", batch_size=20)
def deliver(delivery: Delivery) -> None:
    services.deliver(delivery)
