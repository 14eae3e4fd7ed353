from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core.forms import UserAwareModelForm
from kompass.vendors.models import ServiceRoute, VendorConnection


class VendorConnectionForm(UserAwareModelForm):
    """A connection's fields depend on its transport (``VendorConnection.TRANSPORT_FIELDS``).

    The page shows one fieldset per transport (``transport_fieldsets``); a small script hides the ones not chosen,
    and without it all are shown. Whatever the browser sends, only the chosen transport's fields are validated and
    saved: the others keep their stored values. What each transport needs is asked for by the model's ``clean``
    (an e-mail connection its vendor's address; a ServiceNow one its URL, user and secret variable)."""

    base_url = forms.URLField(
        label=VendorConnection._meta.get_field("base_url").verbose_name,
        help_text=VendorConnection._meta.get_field("base_url").help_text,
        assume_scheme="https",
        required=False,
    )
    TRANSPORT_LEGENDS = {
        VendorConnection.Kind.SERVICENOW: _("ServiceNow (only for ServiceNow connections)"),
        VendorConnection.Kind.EMAIL: _("E-mail bonding (only for e-mail connections)"),
    }

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

    def transport_fieldsets(self) -> list[tuple[str, str, list]]:
        """``(kind, legend, bound fields)`` per transport, in the order of the kinds."""
        return [
            (kind, self.TRANSPORT_LEGENDS[kind], [self[name] for name in VendorConnection.TRANSPORT_FIELDS[kind]])
            for kind in VendorConnection.Kind.values
        ]

    def common_fields(self) -> list:
        """The fields every transport has, shown before the transport fieldsets."""
        return [self["name"], self["kind"]]

    def common_fields_after(self) -> list:
        """The fields every transport has, shown after the transport fieldsets."""
        return [self["mapping"], self["active"]]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or self.instance.kind
        for other, names in VendorConnection.TRANSPORT_FIELDS.items():
            if other == kind:
                continue
            for name in names:  # not this transport's: neither validated nor saved
                cleaned.pop(name, None)
                self._errors.pop(name, None)
        return cleaned


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
