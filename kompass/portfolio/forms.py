"""The portfolio's forms; every choice of system or agency is limited to what the user may act on."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core.imports.forms import UploadForm
from kompass.core.models import Agency, System
from kompass.portfolio.models import (
    INTEGRATION_REQUEST_FIELDS,
    DataSet,
    ExternalParty,
    InfrastructureItem,
    Integration,
    MigrationWave,
    SystemProfile,
    Transformation,
)


class SystemProfileForm(forms.ModelForm):
    class Meta:
        model = SystemProfile
        fields = [
            "technical_contact",
            "vendor_name",
            "product",
            "version",
            "hosting",
            "confidentiality",
            "integrity",
            "availability",
            "personal_data",
            "special_categories",
            "user_count",
            "lifecycle",
            "end_of_support",
        ]
        widgets = {"end_of_support": forms.DateInput(attrs={"type": "date"})}


class InfrastructureItemForm(forms.ModelForm):
    """A server, database or storage of one system (the view sets ``instance.system``)."""

    class Meta:
        model = InfrastructureItem
        fields = ["kind", "name", "legacy_platform", "decommissioned_on"]
        widgets = {"decommissioned_on": forms.DateInput(attrs={"type": "date"})}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = InfrastructureItem.objects.filter(system_id=self.instance.system_id, name=name)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("The system already has an item with this name."))
        return name


class TransformationForm(forms.ModelForm):
    class Meta:
        model = Transformation
        fields = [
            "path",
            "target_platform",
            "wave",
            "status",
            "risk",
            "blocked",
            "blockers",
            "effort_days",
            "completed_on",
        ]
        widgets = {"completed_on": forms.DateInput(attrs={"type": "date"})}


class IntegrationRequestForm(forms.ModelForm):
    """A system owner's request. Systems: the consumer/provider choices are every system the user may see."""

    class Meta:
        model = Integration
        fields = list(INTEGRATION_REQUEST_FIELDS)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A provider may be any system (one asks other agencies for their data); the request's own side
        # is checked by services.request_integration.
        systems = System.objects.select_related("agency").order_by("agency__name", "name")
        for name in ("provider_system", "consumer_system"):
            self.fields[name].queryset = systems
            self.fields[name].label_from_instance = lambda s: f"{s.name} ({s.agency.short_code})"
        for name in ("provider_party", "consumer_party"):
            self.fields[name].queryset = ExternalParty.objects.all()
        self.fields["data_sets"].queryset = DataSet.objects.all()
        self.fields["data_sets"].required = False


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class WaveForm(forms.ModelForm):
    class Meta:
        model = MigrationWave
        fields = ["name", "starts_on", "ends_on", "description"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)


class ExternalPartyForm(forms.ModelForm):
    """A national register, another municipality, the state: shared by every agency, kept centrally."""

    # Longer than the stored nine digits: "974 760 673" is typed with spaces, which are dropped.
    organisation_number = forms.CharField(label=_("Organisation number"), max_length=20, required=False)

    class Meta:
        model = ExternalParty
        fields = ["name", "kind", "organisation_number", "contact"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_organisation_number(self):
        number = "".join(self.cleaned_data["organisation_number"].split())
        if number and not (number.isdigit() and len(number) == 9):
            raise forms.ValidationError(_("An organisation number has nine digits."))
        return number


class DataSetForm(forms.ModelForm):
    """A data set integrations carry, as the DCAT-AP-NO catalogue publishes it."""

    class Meta:
        model = DataSet
        fields = ["name", "description", "fields", "publisher_agency", "publisher_party", "personal_data", "keywords"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "fields": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["publisher_agency"].queryset = Agency.objects.order_by("name")

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("publisher_agency") and cleaned.get("publisher_party"):
            raise forms.ValidationError(_("Choose one publisher: an agency or an external party."))
        return cleaned


class ImportUploadForm(UploadForm):
    """Core's upload form, plus the agency the import is for (only those the user may import for)."""

    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    field_order = ["agency", "file"]

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.filter(pk__in=[a.pk for a in agencies]).order_by("name")
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0].pk
