from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core.forms import UserAwareModelForm
from kompass.vendors.models import ServiceRoute, VendorConnection


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
            "service_desk_email",
            "base_url",
            "ca_bundle",
            "auth_method",
            "username",
            "secret_env",
            "timeout_seconds",
            "webhook_secret_env",
            "mapping",
            "active",
        ]


class ServiceRouteForm(UserAwareModelForm):
    """Which vendor delivers a service: its new cases are sent there on creation."""

    class Meta:
        model = ServiceRoute
        fields = ["service", "connection", "table", "active"]


class SendToVendorForm(forms.Form):
    connection = forms.ModelChoiceField(
        label=_("Vendor connection"), queryset=VendorConnection.objects.filter(active=True), empty_label=None
    )
    table = forms.ChoiceField(label=_("Record type"), choices=[("incident", _("Incident"))], initial="incident")
