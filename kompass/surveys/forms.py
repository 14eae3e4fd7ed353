"""Forms of the surveys pages; the rules themselves are in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core import access
from kompass.core.forms import PunktFormMixin, UserAwareModelForm, style_fields
from kompass.core.roles import Role
from kompass.surveys.models import CommentTag, FollowUpRule, Meeting, MeetingParticipant, Question, SurveyTemplate

ROLES_ASKABLE = {
    Role.AGENCY_IT_CONTACT.value,
    Role.SYSTEM_OWNER.value,
    Role.AGENCY_ADMIN.value,
}

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


class TemplateForm(PunktFormMixin, forms.ModelForm):
    """A template's settings. Saving goes through ``services.revise_template`` (a new version when frozen)."""

    roles = forms.MultipleChoiceField(
        label=_("Roles asked"),
        choices=[(r.value, r.label) for r in Role if r.value in ROLES_ASKABLE],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = SurveyTemplate
        fields = [
            "name",
            "anonymous",
            "min_group_size",
            "scale_min",
            "scale_max",
            "dont_know",
            "roles",
            "days_open",
            "remind_after_days",
            "monthly",
        ]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True  # versions share the name
        style_fields(self)

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("scale_min"), cleaned.get("scale_max")
        if low is not None and high is not None and high <= low:
            self.add_error("scale_max", _("The scale must go from a lower to a higher number."))
        if high is not None and high > 10:
            self.add_error("scale_max", _("At most 10 points."))
        return cleaned

    def validate_unique(self):
        pass  # the version is set by the service


class QuestionForm(PunktFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Question.Kind.choices)
    text = forms.CharField(label=_("Question"), max_length=300)
    dimension = forms.SlugField(label=_("Dimension"), max_length=40, required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=300, required=False)
    choices = forms.CharField(
        label=_("Choices (one per line)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    allow_comment = forms.BooleanField(label=_("Comment allowed"), required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    expected_level = forms.DecimalField(
        label=_("Expected level"), max_digits=4, decimal_places=2, required=False, min_value=0
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)

    def clean(self):
        cleaned = super().clean()
        choices = [c.strip() for c in (cleaned.get("choices") or "").splitlines() if c.strip()]
        if cleaned.get("kind") == Question.Kind.CHOICE and len(choices) < 2:
            self.add_error("choices", _("A choice question needs at least two choices."))
        cleaned["choices"] = choices if cleaned.get("kind") == Question.Kind.CHOICE else []
        if cleaned.get("kind") != Question.Kind.RATING:
            cleaned["expected_level"] = None
        cleaned["dimension"] = cleaned.get("dimension") or ""
        return cleaned


QuestionFormSet = forms.formset_factory(QuestionForm, extra=1, can_delete=True, max_num=30, validate_max=True)


def question_initial(template) -> list[dict]:
    return [
        {
            "kind": q.kind,
            "text": q.text,
            "dimension": q.dimension,
            "help_text": q.help_text,
            "choices": "\n".join(q.choices or []),
            "allow_comment": q.allow_comment,
            "required": q.required,
            "expected_level": q.expected_level,
        }
        for q in template.questions.all()
    ]


class RuleForm(UserAwareModelForm):
    class Meta:
        model = FollowUpRule
        fields = ["name", "dimension", "kind", "value", "due_days", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kompass.surveys.services import DIMENSION_LABELS

        self.fields["dimension"] = forms.ChoiceField(label=_("Dimension"), choices=list(DIMENSION_LABELS.items()))
        style_fields(self)

    def clean_value(self):
        value = self.cleaned_data["value"]
        if value is not None and value <= 0:
            raise forms.ValidationError(_("Must be more than 0."))
        return value


class CommentTagForm(UserAwareModelForm):
    class Meta:
        model = CommentTag
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class InviteForm(PunktFormMixin, forms.Form):
    """Invite people to a meeting: chosen users of its agencies' contacts, or all of them at once."""

    users = forms.ModelMultipleChoiceField(
        label=_("People"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    all_contacts = forms.BooleanField(
        label=_("Invite every IT main contact and system owner of the meeting's agencies"), required=False
    )

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = candidates
        style_fields(self)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("users") and not cleaned.get("all_contacts"):
            raise forms.ValidationError(_("Choose whom to invite."))
        return cleaned


class AttendanceForm(PunktFormMixin, forms.Form):
    participant = forms.IntegerField(widget=forms.HiddenInput)
    attendance = forms.ChoiceField(label=_("Attendance"), choices=MeetingParticipant.Attendance.choices)
