"""API tokens: administrators list, issue (the key is shown once) and revoke them."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from kompass.core.forms import PunktFormMixin, style_fields
from kompass.core.models import ApiToken, User, default_scopes
from kompass.core.views.generic import MatrixRequired


class TokenForm(PunktFormMixin, forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("User"), queryset=User.objects.filter(is_active=True))
    name = forms.CharField(label=gettext_lazy("What the token is for"), max_length=100)
    scopes = forms.CharField(
        label=gettext_lazy("Scopes"),
        required=False,
        help_text=gettext_lazy("Space-separated, e.g. core:read vendors:webhook. Empty: read and write everywhere."),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days until it expires"),
        min_value=1,
        max_value=3650,
        initial=90,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)

    def clean_scopes(self):
        scopes = self.cleaned_data["scopes"].split()
        for scope in scopes:
            app, sep, name = scope.partition(":")
            if not (app and sep and name):
                raise forms.ValidationError(_("Write each scope as app:name, such as core:read."))
        return scopes


class TokenListView(MatrixRequired, TemplateView):
    """Every token with its scopes, expiry, last use and state; a form to issue one."""

    template_name = "core/token_list.html"
    queryset = ApiToken.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            tokens=ApiToken.objects.select_related("user").order_by("-created"),
            form=kwargs.get("form") or TokenForm(),
            default_scopes=" ".join(default_scopes()),
        )
        return context

    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated:  # pragma: no cover - LoginRequiredMixin redirects first
            return redirect("core:login")
        if "revoke" in request.POST:
            token = get_object_or_404(ApiToken, pk=request.POST.get("revoke"))
            token.revoke()
            messages.success(request, _("Token revoked."))
            return redirect("core:token_list")
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        _token, key = ApiToken.issue(
            data["user"],
            data["name"],
            expires=timezone.now() + timedelta(days=data["days"]),
            scopes=data["scopes"] or None,
        )
        context = self.get_context_data()
        context["new_key"] = key
        return self.render_to_response(context, status=201)
