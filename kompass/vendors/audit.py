"""The vendors app's audit registrations (autodiscovered)."""

from auditlog.registry import auditlog

from kompass.vendors.models import VendorConnection

auditlog.register(VendorConnection)
