"""Demo data of the vendors app: a connection to the local ServiceNow simulator started by ``make run``."""

from django.conf import settings
from django.dispatch import receiver

from kompass.core.models import Service
from kompass.core.signals import demo_data_loaded
from kompass.vendors.models import ServiceRoute, VendorConnection

DEMO_CONNECTION = "Driftsleverandør (ServiceNow)"


@receiver(demo_data_loaded)
def add_demo_connection(sender, **kwargs):
    port = getattr(settings, "KOMPASS_DEMO_SNOWSIM_PORT", 8001)
    connection, created = VendorConnection.objects.get_or_create(
        name=DEMO_CONNECTION,
        defaults={
            "kind": VendorConnection.Kind.SERVICENOW,
            "base_url": f"https://127.0.0.1:{port}",
            "ca_bundle": str(settings.VAR_DIR / "snowsim" / "tls" / "ca.pem"),
            "auth_method": VendorConnection.AuthMethod.BASIC,
            "username": "kompass.integration",
            "secret_env": "KOMPASS_SERVICENOW_PASSWORD",
        },
    )
    # Every service the vendor delivers goes to the simulator: a case registered on one in `make run` is sent
    # there on creation, the simulated vendor works it, and the poller brings its changes back.
    routed = 0
    for service in Service.objects.filter(delivery=Service.Delivery.VENDOR, active=True):
        _route, new = ServiceRoute.objects.get_or_create(service=service, defaults={"connection": connection})
        routed += new
    return (
        f"Vendor connection: {DEMO_CONNECTION} ({'created' if created else 'already there'}); "
        f"{routed} vendor-delivered services routed to it"
    )
