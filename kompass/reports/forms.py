"""Forms of the reports pages; the rules are in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core.forms import PunktFormMixin, UserAwareModelForm, style_fields
from kompass.reports.models import AvailabilityLevel, CaseLevel, Exclusion, LevelVersion, Outage

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


class CaseLevelForm(UserAwareModelForm):
    """One service × priority of a version (the version comes from the page, never from the form)."""

    class Meta:
        model = CaseLevel
        fields = [
            "service",
            "priority",
            "response_hours",
            "resolution_hours",
            "service_hours",
            "required_pct",
            "credit_pct",
        ]

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        if version is not None:
            self.instance.version = version

    def clean(self):
        cleaned = super().clean()
        service, priority = cleaned.get("service"), cleaned.get("priority")
        if (
            service
            and priority
            and CaseLevel.objects.filter(version=self.instance.version, service=service, priority=priority)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error(
                "priority", _("This version already has a level for P%(p)s of this service.") % {"p": priority}
            )
        return cleaned


def tiers_to_text(tiers) -> str:
    return "\n".join(f"{tier['below']} {tier['credit']}" for tier in tiers or [])


class AvailabilityLevelForm(UserAwareModelForm):
    """One service's availability level; the shortfall tiers are written one a line: "below credit"."""

    tiers_text = forms.CharField(
        label=_("Shortfall tiers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One tier a line: the figure the measured availability falls below, then the credit in per cent of the "
            'monthly fee, e.g. "99.5 5" (below 99.5 %: 5 %). The lowest tier it falls under counts.'
        ),
    )

    class Meta:
        model = AvailabilityLevel
        fields = ["service", "target_pct", "window", "service_hours"]

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        if version is not None:
            self.instance.version = version
        if not self.is_bound:
            self.initial["tiers_text"] = tiers_to_text(self.instance.tiers)

    def clean_tiers_text(self):
        from kompass.reports.services import parse_tiers

        tiers = []
        for number, line in enumerate(self.cleaned_data["tiers_text"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.replace(",", ".").replace("%", " ").split()
            if len(parts) != 2:
                raise forms.ValidationError(
                    _('Line %(n)s: write two figures, the level and the credit, e.g. "99.5 5".') % {"n": number}
                )
            tiers.append({"below": parts[0], "credit": parts[1]})
        try:
            parse_tiers(tiers)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return tiers

    def clean(self):
        cleaned = super().clean()
        service = cleaned.get("service")
        if (
            service
            and AvailabilityLevel.objects.filter(version=self.instance.version, service=service)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error("service", _("This version already has an availability level for this service."))
        return cleaned

    def save(self, commit=True):
        self.instance.tiers = self.cleaned_data.get("tiers_text") or []
        return super().save(commit)


class VersionCopyForm(PunktFormMixin, forms.Form):
    """A new version of the same contract from an existing one: its levels are copied, the validity is new."""

    name = forms.CharField(label=_("Name"), max_length=200)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=_("Valid to"), widget=DATE, required=False, help_text=_("Empty: open-ended."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)
