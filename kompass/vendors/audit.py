"""The vendors app's audit registrations (autodiscovered).

Only the models' own settings are recorded: reverse relations (a connection's links and inbox) are audited on
their own objects or not at all, and the sync's bookkeeping (watermark, last poll) would only add noise.
"""

from auditlog.registry import auditlog

from kompass.core.audit import reverse_relations
from kompass.vendors.models import ServiceRoute, VendorConnection, VendorLink

auditlog.register(
    VendorConnection,
    exclude_fields=[*reverse_relations(VendorConnection), "poll_watermark", "last_poll_at", "last_webhook_at"],
)
auditlog.register(ServiceRoute)
auditlog.register(
    VendorLink,
    include_fields=["connection", "table", "correlation_id", "sys_id", "number", "sync_state"],
)
