"""Log in (local account or single sign-on) and log out."""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from kompass.core import access
from kompass.core.forms import PunktFormMixin, style_fields

INTEGRATION_LOGIN_REFUSED = _(
    "This is an integration account. It cannot sign in to Kompass in the browser; it uses an API token."
)


class EmailAuthenticationForm(PunktFormMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if access.is_integration_account(user):
            raise forms.ValidationError(INTEGRATION_LOGIN_REFUSED, code="integration_account")


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass
