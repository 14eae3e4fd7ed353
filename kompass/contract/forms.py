"""Forms of the register's pages. Validation of the workflow itself is in services (one place)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.contract.models import Contract, Evidence, Milestone, Requirement
from kompass.core.forms import PunktFormMixin, UserAwareModelForm, style_fields
from kompass.core.models import User
from kompass.core.roles import Role

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContractForm(UserAwareModelForm):
    class Meta:
        model = Contract
        fields = [
            "name",
            "vendor_name",
            "agreement_type",
            "signed_on",
            "takeover_on",
            "establishment_ends_on",
            "customer_representative",
            "vendor_contact_name",
            "vendor_representatives",
            "monthly_fee",
        ]
        widgets = {
            "signed_on": DATE,
            "takeover_on": DATE,
            "establishment_ends_on": DATE,
            "vendor_representatives": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_representative"].queryset = User.objects.filter(
            is_active=True, role_assignments__role=Role.AGREEMENT_MANAGER
        ).distinct()
        self.fields["vendor_representatives"].queryset = User.objects.filter(
            is_active=True, role_assignments__role=Role.VENDOR_REPRESENTATIVE
        ).distinct()
        style_fields(self)


class StatusForm(PunktFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Requirement.Status.choices)
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    remediation = forms.CharField(
        label=_("Agreed remediation"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Needed for a deviation."),
    )
    due_on = forms.DateField(label=_("Remediation due"), widget=DATE, required=False)
    reason = forms.CharField(
        label=_("Reason not applicable"), required=False, help_text=_("Needed for not applicable.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class BulkStatusForm(StatusForm):
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))
    ids = forms.ModelMultipleChoiceField(queryset=Requirement.objects.none(), widget=forms.MultipleHiddenInput)

    def __init__(self, *args, requirements=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = requirements if requirements is not None else Requirement.objects.none()


class EvidenceForm(PunktFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Evidence.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(label=_("File"), required=False)
    url = forms.URLField(label=_("Link"), required=False, assume_scheme="https")
    case_reference = forms.CharField(label=_("Case number"), max_length=40, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class CommentForm(PunktFormMixin, forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class MilestoneForm(UserAwareModelForm):
    """A milestone of a contract (the view sets the contract); names are unique within the contract."""

    class Meta:
        model = Milestone
        fields = ["name", "kind", "due_on"]
        widgets = {"due_on": DATE}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Milestone.objects.filter(contract=self.instance.contract_id, name__iexact=name)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("The contract already has a milestone with this name."))
        return name
