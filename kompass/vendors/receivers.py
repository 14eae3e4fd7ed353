"""The vendors app's ``case_changed`` receiver: outbox rows in the transaction of the case change.

Connected in ``VendorsConfig.ready``. Changes whose origin is a vendor link (applied from the vendor, or the
sync's own notes) are never sent back: that is the first half of echo suppression, the per-field last
synchronised values (``VendorLink.synced``) the second. The routing table a new case is checked against is
cached per process and invalidated by a version token that any route or connection change replaces.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from kompass.cases.signals import case_changed, intake_message
from kompass.vendors import routing, sync
from kompass.vendors.models import ServiceRoute, VendorConnection, VendorLink
from kompass.vendors.transports.email import handle_vendor_mail


@receiver(case_changed, dispatch_uid="vendors.outbox")
def write_outbox(sender, case, change, origin, **kwargs):
    if origin.kind == "vendor":
        return
    if change.kind == "created":
        # A case just created has no link yet: only the routing table decides, cached per process (one
        # primary-key read of its version for the many cases that go to no vendor).
        route = routing.route_for(case.service_id)
        if route is not None:
            sync.open_link(case, VendorConnection.objects.get(pk=route.connection_id), table=route.table)
        return
    link = VendorLink.objects.select_related("connection").filter(case=case).first()
    if link is not None:
        sync.enqueue_for_change(link, case, change)


@receiver(post_save, sender=ServiceRoute, dispatch_uid="vendors.routing.route_saved")
@receiver(post_delete, sender=ServiceRoute, dispatch_uid="vendors.routing.route_deleted")
@receiver(post_save, sender=VendorConnection, dispatch_uid="vendors.routing.connection_saved")
@receiver(post_delete, sender=VendorConnection, dispatch_uid="vendors.routing.connection_deleted")
def routing_changed(sender, **kwargs):
    """Every process's cached routing table is out of date (``routing.py``)."""
    routing.bump()


@receiver(intake_message, dispatch_uid="vendors.email_bonding")
def vendor_mail(sender, message, **kwargs):
    """E-mail bonding: a vendor's reply from its service desk address (``transports/email.py``)."""
    return handle_vendor_mail(message)
