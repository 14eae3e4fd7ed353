"""Vendor connection services, called by views, the API and (later) the sync jobs."""

from django.utils import timezone

from kompass.vendors.models import VendorConnection
from kompass.vendors.transports import transport_for


def check_connection(connection: VendorConnection):
    """Try the connection end to end and record the result on it."""
    transport = transport_for(connection)
    try:
        result = transport.check()
    finally:
        transport.close()
    VendorConnection.objects.filter(pk=connection.pk).update(
        last_checked=timezone.now(), last_check_ok=result.ok, last_check_detail=result.detail[:500]
    )
    connection.refresh_from_db()
    return result
