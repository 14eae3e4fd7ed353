"""My settings: each signed-in person sets their own language and notification preferences."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from kompass.core import notifications
from kompass.core.forms import PunktFormMixin, style_fields
from kompass.core.models import NotificationPreference, User

CHANNEL_LABELS = dict(NotificationPreference.Channel.choices)


class MySettingsForm(PunktFormMixin, forms.Form):
    """The language, and one checkbox per declared event and channel (``kompass.core.notifications``)."""

    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=User.Language.choices)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["language"].initial = user.language
        saved = {(p.event, p.channel): p.enabled for p in user.notification_preferences.all()}
        self.preference_fields = []
        for event in notifications.events():
            for channel in event.channels:
                name = f"notify__{event.key}__{channel}"
                if event.mandatory:
                    # Always sent: shown checked and disabled, so the choice is visible but not changeable.
                    self.fields[name] = forms.BooleanField(
                        label=f"{event.label} ({CHANNEL_LABELS[channel]})",
                        required=False,
                        initial=True,
                        disabled=True,
                        help_text=gettext_lazy("Always sent."),
                    )
                    continue
                self.fields[name] = forms.BooleanField(
                    label=f"{event.label} ({CHANNEL_LABELS[channel]})",
                    required=False,
                    initial=saved.get((event.key, channel), event.default),
                )
                self.preference_fields.append((name, event.key, channel))
        style_fields(self)

    def save(self) -> None:
        self.user.language = self.cleaned_data["language"]
        self.user.save(update_fields=["language"])
        for name, event, channel in self.preference_fields:
            NotificationPreference.objects.update_or_create(
                user=self.user, event=event, channel=channel, defaults={"enabled": self.cleaned_data[name]}
            )


class MySettingsView(LoginRequiredMixin, TemplateView):
    template_name = "core/my_settings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or MySettingsForm(user=self.request.user)
        return context

    def post(self, request, *args, **kwargs):
        form = MySettingsForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        form.save()
        translation.activate(form.cleaned_data["language"])
        messages.success(request, _("Your settings are saved."))
        response = redirect("core:my_settings")
        # The chosen language also becomes the UI's (the header's switch sets the same cookie).
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            form.cleaned_data["language"],
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
