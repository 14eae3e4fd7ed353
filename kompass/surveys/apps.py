from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    """Temperature surveys and agency dialogue. Access, audit, demo, navigation and scheduling are autodiscovered;
    ``ready`` declares the notification events."""

    name = "kompass.surveys"
    label = "surveys"
    verbose_name = _("Temperature surveys")

    def ready(self) -> None:
        from kompass.surveys import events  # noqa: F401
