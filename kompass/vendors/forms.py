from django import forms

from kompass.core.forms import UserAwareModelForm
from kompass.vendors.models import VendorConnection


class VendorConnectionForm(UserAwareModelForm):
    base_url = forms.URLField(
        label=VendorConnection._meta.get_field("base_url").verbose_name,
        help_text=VendorConnection._meta.get_field("base_url").help_text,
        assume_scheme="https",
    )

    class Meta:
        model = VendorConnection
        fields = [
            "name",
            "kind",
            "base_url",
            "ca_bundle",
            "auth_method",
            "username",
            "secret_env",
            "timeout_seconds",
            "active",
        ]
