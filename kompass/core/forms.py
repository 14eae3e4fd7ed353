from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from kompass.core import access
from kompass.core.models import Agency, Organisation, RoleAssignment, Service, System, User
from kompass.core.roles import AGENCY_SCOPED_ROLES, GLOBAL_ROLES


def style_fields(form: forms.BaseForm) -> None:
    """Give widgets Punkt classes and the ARIA attributes that tie them to help texts and errors."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            continue
        classes = widget.attrs.get("class", "").split()
        if "pkt-input" not in classes:  # called again after cleaning: don't repeat the class
            widget.attrs["class"] = " ".join([*classes, "pkt-input"])
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
        action = "create" if self.instance._state.adding else "change"
        self.fields["agency"].queryset = access.agencies_for(self.user, action, System)
        # Only people the user may see can be picked as system owner.
        self.fields["system_owner"].queryset = User.objects.restrict(self.user, "view").filter(is_active=True)


class ServiceForm(UserAwareModelForm):
    class Meta:
        model = Service
        fields = ["name", "description", "owning_team", "delivery", "vendor_name", "active"]


class UserForm(UserAwareModelForm):
    new_password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("For a local account. Leave empty to keep the current password (or none, with single sign-on)."),
    )

    class Meta:
        model = User
        fields = ["email", "full_name", "title", "phone", "is_active"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A user with this e-mail address already exists."))
        return email

    def clean_new_password(self):
        password = self.cleaned_data.get("new_password")
        if password:
            password_validation.validate_password(password, self.instance)
        return password

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            user.set_password(self.cleaned_data["new_password"])
        elif user._state.adding:
            user.set_unusable_password()
        if commit:
            user.save()
        return user


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


def contrast_with_white(hex_colour: str) -> float:
    """WCAG 2.1 contrast ratio between a #rrggbb colour and white."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


class OrganisationForm(UserAwareModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "short_name", "it_agency_name", "primary_colour", "support_email"]

    def clean_primary_colour(self):
        colour = self.cleaned_data["primary_colour"]
        # The header prints white text on this colour: keep WCAG AA contrast (4.5:1).
        if contrast_with_white(colour) < 4.5:
            raise forms.ValidationError(
                _("White text on this colour is hard to read (contrast %(ratio).1f:1; at least 4.5:1 is needed)."),
                params={"ratio": contrast_with_white(colour)},
            )
        return colour
