"""Forms of the reports pages; the rules are in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core.forms import PunktFormMixin, UserAwareModelForm, style_fields
from kompass.reports.models import Exclusion, LevelVersion, Outage

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class VersionForm(UserAwareModelForm):
    class Meta:
        model = LevelVersion
        fields = [
            "contract",
            "name",
            "valid_from",
            "valid_to",
            "monthly_cap_pct",
            "yearly_cap_pct",
            "accumulation",
            "counts",
        ]
        widgets = {"valid_from": DATE, "valid_to": DATE}


class ExclusionForm(UserAwareModelForm):
    class Meta:
        model = Exclusion
        fields = ["contract", "service", "kind", "starts", "ends", "case_number", "reason"]
        widgets = {"starts": MOMENT, "ends": MOMENT, "reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.instance.decided_by = user


class OutageForm(UserAwareModelForm):
    class Meta:
        model = Outage
        fields = ["contract", "service", "starts", "ends", "cause"]
        widgets = {"starts": MOMENT, "ends": MOMENT}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.instance.recorded_by = user


class TextForm(PunktFormMixin, forms.Form):
    """One required text (a dispute's reason, an answer, a resolution)."""

    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["text"].label = label
        style_fields(self)


class AdjustmentForm(PunktFormMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount (NOK)"), max_digits=12, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)
