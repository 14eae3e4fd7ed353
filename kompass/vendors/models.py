"""Connections to vendors' service-management tools (today: ServiceNow)."""

import os
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kompass.core.durable import DurableWork
from kompass.core.models import RestrictedModel
from kompass.vendors import conf

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
        EMAIL = "email", _("E-mail (vendor without an API)")

    class AuthMethod(models.TextChoices):
        BASIC = "basic", _("User name and password (basic)")
        OAUTH_CLIENT_CREDENTIALS = "oauth_client_credentials", _("OAuth 2.0 client credentials")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SERVICENOW)
    # ServiceNow only (blank on an e-mail connection; ``clean`` asks for them per transport):
    base_url = models.URLField(_("instance URL"), blank=True, help_text=_("For example https://vendor.service-now.com"))
    ca_bundle = models.CharField(
        _("CA bundle"),
        max_length=500,
        blank=True,
        help_text=_("Path to a PEM file with the CA certificates to trust. Empty: the system's trust store."),
    )
    auth_method = models.CharField(
        _("authentication"), max_length=30, choices=AuthMethod.choices, default=AuthMethod.BASIC
    )
    username = models.CharField(_("user name or client id"), max_length=200, blank=True)
    secret_env = models.CharField(
        _("secret variable"),
        max_length=100,
        blank=True,
        validators=[validate_env_name],
        help_text=_("Name of the environment variable that holds the password or client secret."),
    )
    timeout_seconds = models.PositiveSmallIntegerField(_("timeout (seconds)"), default=20)
    active = models.BooleanField(_("active"), default=True)
    last_checked = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_check_ok = models.BooleanField(_("last check succeeded"), null=True, blank=True)
    last_check_detail = models.CharField(_("last check result"), max_length=500, blank=True)
    # E-bonding
    webhook_secret_env = models.CharField(
        _("webhook secret variable"),
        max_length=100,
        blank=True,
        validators=[validate_env_name],
        help_text=_("Name of the environment variable that holds the HMAC key of the vendor's pushes."),
    )
    mapping = models.JSONField(
        _("mapping"), default=dict, blank=True, help_text=_("Overrides of the default field and state mapping.")
    )
    service_desk_email = models.EmailField(
        _("vendor's service desk address"),
        blank=True,
        help_text=_("E-mail bonding: where Kompass sends structured mails, and the only sender whose replies count."),
    )
    poll_watermark = models.CharField(_("poll watermark"), max_length=19, blank=True)
    last_poll_at = models.DateTimeField(_("last successful poll"), null=True, blank=True)
    last_webhook_at = models.DateTimeField(_("last webhook"), null=True, blank=True)

    agency_field = None  # organisation-wide

    class Meta:
        verbose_name = _("vendor connection")
        verbose_name_plural = _("vendor connections")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("vendors:connection_detail", args=[self.pk])

    #: The fields each transport uses (the connection form shows and validates only these, besides the common
    #: ones: name, kind, mapping, active).
    TRANSPORT_FIELDS = {
        Kind.SERVICENOW: (
            "base_url",
            "ca_bundle",
            "auth_method",
            "username",
            "secret_env",
            "timeout_seconds",
            "webhook_secret_env",
        ),
        Kind.EMAIL: ("service_desk_email",),
    }

    def clean(self) -> None:
        if self.kind == self.Kind.EMAIL:
            if not self.service_desk_email:
                raise ValidationError({"service_desk_email": _("E-mail bonding needs the vendor's address.")})
            return
        errors = {}
        if not self.base_url:
            errors["base_url"] = _("A ServiceNow connection needs the instance URL.")
        elif not self.base_url.lower().startswith("https://"):
            errors["base_url"] = _("Vendor instances are reached over HTTPS only.")
        if not self.username:
            errors["username"] = _("A ServiceNow connection needs the user name or client id.")
        if not self.secret_env:
            errors["secret_env"] = _("A ServiceNow connection needs the name of the secret's environment variable.")
        if errors:
            raise ValidationError(errors)

    def secret(self) -> str:
        """The secret from the environment; empty when the variable is not set."""
        return os.environ.get(self.secret_env, "")

    def webhook_secret(self) -> str:
        return os.environ.get(self.webhook_secret_env, "") if self.webhook_secret_env else ""


# ---------------------------------------------------------------------------------------------
# E-bonding: routes, links, the outbox and the inbox (issue 10; see docs/e-bonding.md)
# ---------------------------------------------------------------------------------------------
class ServiceRoute(RestrictedModel):
    """A service delivered by a vendor: its new cases go to that vendor's instance on creation.

    Kept here, keyed by service, because the core service model knows no vendor connection.
    """

    service = models.OneToOneField(
        "core.Service", verbose_name=_("service"), on_delete=models.CASCADE, related_name="vendor_route"
    )
    connection = models.ForeignKey(
        VendorConnection, verbose_name=_("vendor connection"), on_delete=models.PROTECT, related_name="routes"
    )
    table = models.CharField(_("table"), max_length=80, default="incident")
    active = models.BooleanField(_("active"), default=True)

    agency_field = None

    class Meta:
        verbose_name = _("vendor route")
        verbose_name_plural = _("vendor routes")
        ordering = ["service__name"]

    def __str__(self) -> str:
        return f"{self.service} → {self.connection}"

    def get_absolute_url(self) -> str:
        return reverse("vendors:route_list")


class RoutingVersion(models.Model):
    """One row whose token changes whenever a service route or a vendor connection is saved or deleted (the
    receivers in ``receivers.py``): every process compares it with the token of its cached routing table
    (``routing.py``) before trusting it. A token, not a counter, so a rolled-back change never comes back."""

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("routing version")
        verbose_name_plural = _("routing versions")

    def __str__(self) -> str:
        return self.token


class VendorLink(RestrictedModel):
    """One case bonded to one remote record, and how far the two sides have been synchronised."""

    class SyncState(models.TextChoices):
        PENDING = "pending", _("Being created at the vendor")
        LINKED = "linked", _("In sync")
        REFUSED = "refused", _("The vendor refused a change")
        FAILED = "failed", _("Delivery failed")

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="vendor_link"
    )
    connection = models.ForeignKey(
        VendorConnection, verbose_name=_("vendor connection"), on_delete=models.PROTECT, related_name="links"
    )
    table = models.CharField(_("table"), max_length=80, default="incident")
    correlation_id = models.CharField(_("correlation id"), max_length=100)
    sys_id = models.CharField(_("remote sys_id"), max_length=32, blank=True, db_index=True)
    number = models.CharField(_("remote number"), max_length=40, blank=True)
    last_mod_count = models.IntegerField(_("last applied sys_mod_count"), default=-1)
    last_updated_on = models.CharField(_("last applied sys_updated_on"), max_length=19, blank=True)
    seen_journal = models.JSONField(_("journal entries seen"), default=list, blank=True)
    journal_watermark = models.CharField(max_length=19, blank=True)
    synced = models.JSONField(_("last synchronised values"), default=dict, blank=True)
    #: Attachments on both sides: remote sys_id → the case attachment's pk (0: refused by Kompass's checks).
    attachments = models.JSONField(_("attachments synchronised"), default=dict, blank=True)
    sync_state = models.CharField(_("sync state"), max_length=10, choices=SyncState.choices, default=SyncState.PENDING)
    last_error = models.TextField(_("last error"), blank=True)
    last_inbound_at = models.DateTimeField(_("last change from the vendor"), null=True, blank=True)
    last_outbound_at = models.DateTimeField(_("last change sent"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    agency_field = "case__agency"

    class Meta:
        verbose_name = _("vendor link")
        verbose_name_plural = _("vendor links")
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "correlation_id"], name="vendors_link_unique_correlation"),
        ]

    def __str__(self) -> str:
        return f"{self.correlation_id} ↔ {self.number or self.sys_id or '…'}"

    def get_absolute_url(self) -> str:
        return reverse("vendors:link_detail", args=[self.pk])

    @property
    def ref(self) -> str:
        """What ``ChangeOrigin.by_vendor`` carries: the link, so the outbox knows its own changes."""
        return f"vendorlink:{self.pk}"


class OutboxMessage(DurableWork):
    """A change that must reach the vendor, written in the transaction of the case change."""

    class Kind(models.TextChoices):
        CREATE = "create", _("Create the remote record")
        UPDATE = "update", _("Update fields")
        COMMENT = "comment", _("Public comment")
        WORK_NOTE = "work_note", _("Work note")
        ATTACHMENT = "attachment", _("Attachment")

    retry_base_seconds = 2
    retry_cap_seconds = conf.retry_cap_seconds()
    lease_seconds = conf.lease_seconds()

    max_attempts = models.PositiveIntegerField(default=conf.max_attempts)
    link = models.ForeignKey(VendorLink, verbose_name=_("link"), on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    fields = models.JSONField(_("fields"), default=dict, blank=True)
    marker = models.CharField(_("marker"), max_length=80, blank=True)
    change_id = models.PositiveBigIntegerField(null=True, blank=True)
    refused = models.BooleanField(_("refused by the vendor"), default=False)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["pk"]
        indexes = [models.Index(fields=["link", "state"], name="vendors_outbox_link_state")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class InboxEvent(DurableWork):
    """A sign that a remote record changed (a webhook push, a poll or reconciliation), applied asynchronously."""

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        POLL = "poll", _("Poll")
        RECONCILE = "reconcile", _("Reconciliation")

    retry_base_seconds = 2
    retry_cap_seconds = conf.retry_cap_seconds()
    lease_seconds = conf.lease_seconds()
    complete_fields = ("outcome",)  # written with the completion (one update per event, not two)

    max_attempts = models.PositiveIntegerField(default=conf.max_attempts)
    connection = models.ForeignKey(VendorConnection, on_delete=models.CASCADE, related_name="inbox")
    source = models.CharField(max_length=10, choices=Source.choices)
    event_id = models.CharField(max_length=100, blank=True)
    table = models.CharField(max_length=80, default="incident")
    sys_id = models.CharField(max_length=32, db_index=True)
    mod_count = models.IntegerField(default=-1)
    payload = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("inbox event")
        verbose_name_plural = _("inbox events")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "event_id"],
                condition=~models.Q(event_id=""),
                name="vendors_inbox_unique_event",
            )
        ]


class ReconciliationRun(models.Model):
    """One comparison of every open (and recently closed) link with its vendor record."""

    started = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=20, default="schedule")
    checked = models.PositiveIntegerField(default=0)
    agree = models.PositiveIntegerField(default=0)
    repaired = models.PositiveIntegerField(default=0)
    attention = models.PositiveIntegerField(default=0)
    drift = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-started"]

    def __str__(self) -> str:
        return self.summary

    @property
    def summary(self) -> str:
        return _("%(n)s links checked, %(m)s agree, %(k)s repaired, %(j)s need attention") % {
            "n": self.checked,
            "m": self.agree,
            "k": self.repaired,
            "j": self.attention,
        }


class HealthAlert(models.Model):
    """One incident of an alert threshold being crossed: opened (administrators are e-mailed once) and closed
    when the condition clears (a "recovered" message). At most one open row per condition."""

    condition = models.CharField(_("condition"), max_length=100)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    opened = models.DateTimeField(_("opened"), default=timezone.now)
    closed = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("health alert")
        verbose_name_plural = _("health alerts")
        ordering = ["-opened"]
        constraints = [
            models.UniqueConstraint(
                fields=["condition"], condition=models.Q(closed__isnull=True), name="vendors_alert_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.condition} ({'open' if self.closed is None else 'closed'})"


class EmailRecord(models.Model):
    """E-mail bonding: Kompass's copy of a vendor ticket that lives only in mails (``transports/email.py``).

    The transport answers the sync's reads from it (``sys_id``, ``sys_mod_count``, ``sys_updated_on``, the
    journal) exactly as the Table API would; the vendor's replies (through the cases e-mail intake) change it.
    """

    connection = models.ForeignKey(VendorConnection, on_delete=models.CASCADE, related_name="email_records")
    sys_id = models.CharField(max_length=32, unique=True)
    correlation_id = models.CharField(max_length=100, db_index=True)
    fields = models.JSONField(default=dict, blank=True)
    mod_count = models.IntegerField(default=0)
    updated_on = models.CharField(max_length=19)
    journal = models.JSONField(default=list, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    create_sent = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("e-mail bonded record")
        verbose_name_plural = _("e-mail bonded records")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.correlation_id} ({self.sys_id})"
