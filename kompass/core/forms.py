from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.core.models import Agency, RoleAssignment, Service, System, User
from kompass.core.roles import AGENCY_SCOPED_ROLES, GLOBAL_ROLES


def style_fields(form: forms.BaseForm) -> None:
    """Give widgets Punkt classes and the ARIA attributes that tie them to help texts and errors."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            continue
        css = "pkt-input"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
        described = []
        if field.help_text:
            described.append(f"{form[name].auto_id}-help")
        # Only look at errors once the form has been cleaned: touching ``form.errors`` here would
        # validate the form before subclasses finish narrowing their querysets.
        if form._errors is not None and name in form._errors:
            widget.attrs["aria-invalid"] = "true"
            described.append(f"{form[name].auto_id}-error")
        if described:
            widget.attrs["aria-describedby"] = " ".join(described)


class PunktFormMixin:
    def full_clean(self):
        super().full_clean()
        style_fields(self)


class UserAwareModelForm(PunktFormMixin, forms.ModelForm):
    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        style_fields(self)


class AgencyForm(UserAwareModelForm):
    class Meta:
        model = Agency
        fields = ["name", "short_code", "kind", "organisation_number", "description", "services", "active"]
        widgets = {"services": forms.CheckboxSelectMultiple, "description": forms.Textarea(attrs={"rows": 4})}

    def clean_short_code(self):
        return self.cleaned_data["short_code"].strip().upper()


class SystemForm(UserAwareModelForm):
    class Meta:
        model = System
        fields = ["name", "agency", "system_owner", "criticality", "description", "services", "active"]
        widgets = {"services": forms.CheckboxSelectMultiple, "description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.restrict(self.user, "change")


class ServiceForm(UserAwareModelForm):
    class Meta:
        model = Service
        fields = ["name", "description", "owning_team", "delivery", "vendor_name", "active"]


class UserForm(UserAwareModelForm):
    class Meta:
        model = User
        fields = ["email", "full_name", "title", "phone", "is_active"]


class RoleAssignmentForm(PunktFormMixin, forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ["role", "agency"]

    def __init__(self, *args, user_obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_obj = user_obj
        self.fields["agency"].queryset = Agency.objects.filter(active=True)
        self.fields["agency"].required = False
        style_fields(self)

    def clean(self):
        cleaned = super().clean()
        role, agency = cleaned.get("role"), cleaned.get("agency")
        if role in AGENCY_SCOPED_ROLES and not agency:
            self.add_error("agency", _("This role must name an agency."))
        if role in GLOBAL_ROLES and agency:
            self.add_error("agency", _("This role holds for the whole organisation; leave agency empty."))
        if (
            role
            and self.user_obj is not None
            and RoleAssignment.objects.filter(user=self.user_obj, role=role, agency=agency).exists()
        ):
            raise forms.ValidationError(_("The user already has this role."))
        return cleaned

    def save(self, commit=True):
        self.instance.user = self.user_obj
        return super().save(commit)
