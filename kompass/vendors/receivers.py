"""The vendors app's ``case_changed`` receiver: outbox rows in the transaction of the case change.

Connected in ``VendorsConfig.ready``. Changes whose origin is a vendor link (applied from the vendor, or the
sync's own notes) are never sent back: that is the first half of echo suppression, the per-field last
synchronised values (``VendorLink.synced``) the second.
"""

from django.dispatch import receiver

from kompass.cases.signals import case_changed, intake_message
from kompass.vendors import sync
from kompass.vendors.models import ServiceRoute, VendorLink
from kompass.vendors.transports.email import handle_vendor_mail


@receiver(case_changed, dispatch_uid="vendors.outbox")
def write_outbox(sender, case, change, origin, **kwargs):
    if origin.kind == "vendor":
        return
    link = VendorLink.objects.select_related("connection").filter(case=case).first()
    if link is None:
        if change.kind == "created":
            route = (
                ServiceRoute.objects.select_related("connection")
                .filter(service_id=case.service_id, active=True, connection__active=True)
                .first()
            )
            if route is not None:
                sync.open_link(case, route.connection, table=route.table)
        return
    if change.kind != "created":
        sync.enqueue_for_change(link, case, change)


@receiver(intake_message, dispatch_uid="vendors.email_bonding")
def vendor_mail(sender, message, **kwargs):
    """E-mail bonding: a vendor's reply from its service desk address (``transports/email.py``)."""
    return handle_vendor_mail(message)
