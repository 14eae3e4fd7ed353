from rest_framework import serializers

from kompass.vendors.models import VendorConnection


class VendorConnectionSerializer(serializers.ModelSerializer):
    """A connection as the API shows it: never a secret, only the name of the variable holding it."""

    class Meta:
        model = VendorConnection
        fields = ["id", "name", "kind", "base_url", "auth_method", "active", "last_checked", "last_check_ok"]
