"""Forms of the surveys pages; the rules themselves are in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core import access
from kompass.core.forms import PunktFormMixin, UserAwareModelForm, style_fields
from kompass.surveys.models import Meeting, SurveyTemplate

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(PunktFormMixin, forms.Form):
    template = forms.ModelChoiceField(label=_("Template"), queryset=SurveyTemplate.objects.none())
    period = forms.DateField(label=_("Month measured"), widget=DATE, help_text=_("Any day of the month."))
    closes_on = forms.DateField(label=_("Closes"), widget=DATE)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = SurveyTemplate.objects.restrict(user, "view").order_by("name", "-version")
        style_fields(self)


class CloseActionForm(PunktFormMixin, forms.Form):
    note = forms.CharField(label=_("Closing note"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class MeetingForm(UserAwareModelForm):
    class Meta:
        model = Meeting
        fields = [
            "kind",
            "title",
            "starts_at",
            "location",
            "agencies",
            "period",
            "agenda",
            "notes",
            "decisions",
            "case_numbers",
        ]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "period": DATE,
            "agencies": forms.CheckboxSelectMultiple,
            "agenda": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "decisions": forms.Textarea(attrs={"rows": 3}),
            "case_numbers": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agencies"].queryset = access.agencies_for(self.user, "create", Meeting).order_by("name")
        style_fields(self)

    def clean(self):
        cleaned = super().clean()
        agencies = cleaned.get("agencies") or []
        if cleaned.get("kind") == Meeting.Kind.ONE_TO_ONE and len(agencies) != 1:
            self.add_error("agencies", _("A one-to-one meeting is with exactly one agency."))
        return cleaned
