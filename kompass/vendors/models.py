"""Connections to vendors' service-management tools (today: ServiceNow)."""

import os
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kompass.core.models import RestrictedModel

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,99}$")


def validate_env_name(value: str) -> None:
    if value and not ENV_NAME.match(value):
        raise ValidationError(_("Use the name of an environment variable, such as KOMPASS_SERVICENOW_PASSWORD."))


class VendorConnection(RestrictedModel):
    """How Kompass reaches one vendor's instance.

    Secrets are never stored in the database: the connection names the environment variables that
    hold them. The CA bundle lets Kompass trust a vendor (or the demo simulator) whose certificate is
    not signed by a public CA, without turning certificate checks off.
    """

    class Kind(models.TextChoices):
        SERVICENOW = "servicenow", "ServiceNow"

    class AuthMethod(models.TextChoices):
        BASIC = "basic", _("User name and password (basic)")
        OAUTH_CLIENT_CREDENTIALS = "oauth_client_credentials", _("OAuth 2.0 client credentials")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SERVICENOW)
    base_url = models.URLField(_("instance URL"), help_text=_("For example https://vendor.service-now.com"))
    ca_bundle = models.CharField(
        _("CA bundle"),
        max_length=500,
        blank=True,
        help_text=_("Path to a PEM file with the CA certificates to trust. Empty: the system's trust store."),
    )
    auth_method = models.CharField(
        _("authentication"), max_length=30, choices=AuthMethod.choices, default=AuthMethod.BASIC
    )
    username = models.CharField(_("user name or client id"), max_length=200)
    secret_env = models.CharField(
        _("secret variable"),
        max_length=100,
        validators=[validate_env_name],
        help_text=_("Name of the environment variable that holds the password or client secret."),
    )
    timeout_seconds = models.PositiveSmallIntegerField(_("timeout (seconds)"), default=20)
    active = models.BooleanField(_("active"), default=True)
    last_checked = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_check_ok = models.BooleanField(_("last check succeeded"), null=True, blank=True)
    last_check_detail = models.CharField(_("last check result"), max_length=500, blank=True)

    agency_field = None  # organisation-wide

    class Meta:
        verbose_name = _("vendor connection")
        verbose_name_plural = _("vendor connections")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("vendors:connection_detail", args=[self.pk])

    def clean(self) -> None:
        if self.base_url and not self.base_url.lower().startswith("https://"):
            raise ValidationError({"base_url": _("Vendor instances are reached over HTTPS only.")})

    def secret(self) -> str:
        """The secret from the environment; empty when the variable is not set."""
        return os.environ.get(self.secret_env, "")
