"""Vendor performance: service-level definitions, outages, exclusions, statements and monthly reports.

* :class:`LevelVersion` — one contract's service levels for a validity period (bilag 5 as data: caps,
  accumulation, whose timestamps count); its :class:`CaseLevel` rows (per service and priority: response and
  resolution targets, required attainment, credit) and :class:`AvailabilityLevel` rows (per service: target,
  measurement window, service hours, shortfall tiers).
* :class:`Outage` — downtime of a service (recorded by hand or taken from a major incident).
* :class:`Exclusion` — time or cases that do not count (agreed maintenance, customer-caused, force majeure),
  with who decided and why.
* :class:`Statement` (per contract and month) with its :class:`StatementLine` rows, :class:`Adjustment` rows
  and :class:`Dispute` rows; every input of the computation is kept on the statement.
* :class:`MonthlyReport` — an immutable, numbered version of the month's service report (PDF and Excel with
  their SHA-256).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kompass.core.models import RestrictedModel

REPRESENTATIVES = "vendor_representatives"
SERVICE_HOURS = [("24x7", _("24×7")), ("office", _("Business hours (08–16 working days)"))]
PCT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class LevelVersion(RestrictedModel):
    """The service levels of one contract for a validity period (``valid_to`` inclusive, empty: open-ended)."""

    class Accumulation(models.TextChoices):
        SUM = "sum", _("Credits of every missed level are added up")
        MAX = "max", _("Only the largest credit of the month is owed")

    class Counts(models.TextChoices):
        KOMPASS = "kompass", _("Kompass's timestamps")
        VENDOR = "vendor", _("The vendor's timestamps (e-bonding)")

    contract = models.ForeignKey(
        "contract.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="level_versions"
    )
    name = models.CharField(_("name"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    monthly_cap_pct = models.DecimalField(
        _("monthly cap (% of the fee)"), max_digits=5, decimal_places=2, null=True, blank=True, validators=PCT
    )
    yearly_cap_pct = models.DecimalField(
        _("yearly cap (% of twelve monthly fees)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PCT,
    )
    accumulation = models.CharField(
        _("accumulation"), max_length=3, choices=Accumulation.choices, default=Accumulation.SUM
    )
    counts = models.CharField(_("timestamps that count"), max_length=8, choices=Counts.choices, default=Counts.KOMPASS)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("service-level version")
        verbose_name_plural = _("service-level versions")
        ordering = ["contract", "-valid_from"]

    def __str__(self) -> str:
        return (
            f"{self.name} ({self.valid_from:%d.%m.%Y}–{self.valid_to:%d.%m.%Y})"
            if self.valid_to
            else (f"{self.name} ({self.valid_from:%d.%m.%Y}–)")
        )

    def get_absolute_url(self) -> str:
        return reverse("reports:version_detail", args=[self.pk])

    def clean(self) -> None:
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end of validity cannot be before its start.")})
        if self.contract_id:
            others = LevelVersion.objects.filter(contract_id=self.contract_id).exclude(pk=self.pk)
            for other in others:
                if (other.valid_to is None or other.valid_to >= self.valid_from) and (
                    self.valid_to is None or self.valid_to >= other.valid_from
                ):
                    raise ValidationError(_("The validity overlaps %(other)s.") % {"other": other})


class CaseLevel(RestrictedModel):
    """Per service and priority: "``required_pct`` % of P``priority`` cases resolved within ``resolution_hours``"."""

    version = models.ForeignKey(
        LevelVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="case_levels"
    )
    service = models.ForeignKey("core.Service", verbose_name=_("service"), on_delete=models.PROTECT, related_name="+")
    priority = models.PositiveSmallIntegerField(_("priority"), validators=[MinValueValidator(1), MaxValueValidator(4)])
    response_hours = models.DecimalField(
        _("response target (hours)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    resolution_hours = models.DecimalField(
        _("resolution target (hours)"), max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    service_hours = models.CharField(_("service hours"), max_length=8, choices=SERVICE_HOURS, default="24x7")
    required_pct = models.DecimalField(_("required attainment (%)"), max_digits=5, decimal_places=2, validators=PCT)
    credit_pct = models.DecimalField(
        _("credit when missed (% of the fee)"), max_digits=5, decimal_places=2, default=Decimal(0), validators=PCT
    )

    class Meta:
        verbose_name = _("case service level")
        verbose_name_plural = _("case service levels")
        ordering = ["version", "service", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["version", "service", "priority"], name="reports_caselevel_unique")
        ]

    def get_absolute_url(self) -> str:
        return reverse("reports:version_detail", args=[self.version_id])

    def __str__(self) -> str:
        return _("%(pct)s %% of P%(p)s resolved within %(h)s h") % {
            "pct": self.required_pct.normalize(),
            "p": self.priority,
            "h": self.resolution_hours.normalize(),
        }


class AvailabilityLevel(RestrictedModel):
    """Per service: availability of at least ``target_pct`` inside the service hours, per calendar month.

    ``tiers`` is bilag 5's table: ``[{"below": "99.5", "credit": "5"}, {"below": "99", "credit": "10"}, ...]``
    (a measured figure below ``below`` earns ``credit`` % of the fee; the lowest tier it falls under wins).
    """

    class Window(models.TextChoices):
        MONTH = "month", _("Calendar month")

    version = models.ForeignKey(
        LevelVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="availability_levels"
    )
    service = models.ForeignKey("core.Service", verbose_name=_("service"), on_delete=models.PROTECT, related_name="+")
    target_pct = models.DecimalField(_("availability target (%)"), max_digits=6, decimal_places=3, validators=PCT)
    window = models.CharField(_("measurement window"), max_length=8, choices=Window.choices, default=Window.MONTH)
    service_hours = models.CharField(_("service hours"), max_length=8, choices=SERVICE_HOURS, default="24x7")
    tiers = models.JSONField(_("shortfall tiers"), default=list, blank=True)

    class Meta:
        verbose_name = _("availability level")
        verbose_name_plural = _("availability levels")
        ordering = ["version", "service"]
        constraints = [models.UniqueConstraint(fields=["version", "service"], name="reports_availability_unique")]

    def __str__(self) -> str:
        return _("Availability %(pct)s %%") % {"pct": self.target_pct.normalize()}

    def get_absolute_url(self) -> str:
        return reverse("reports:version_detail", args=[self.version_id])

    def clean(self) -> None:
        from kompass.reports.services import parse_tiers

        try:
            parse_tiers(self.tiers)
        except ValueError as error:
            raise ValidationError({"tiers": str(error)}) from error


class Outage(RestrictedModel):
    """A service was down from ``starts`` to ``ends`` (an open outage has no end yet)."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Recorded by hand")
        MAJOR_INCIDENT = "major_incident", _("Major incident")

    contract = models.ForeignKey(
        "contract.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey("core.Service", verbose_name=_("service"), on_delete=models.PROTECT, related_name="+")
    starts = models.DateTimeField(_("starts"))
    ends = models.DateTimeField(_("ends"), null=True, blank=True)
    cause = models.CharField(_("cause"), max_length=500)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    case_number = models.CharField(_("case number"), max_length=30, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-starts"]

    def __str__(self) -> str:
        return f"{self.service} {self.starts:%d.%m.%Y %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("reports:exclusion_list")

    def clean(self) -> None:
        if self.ends and self.starts and self.ends <= self.starts:
            raise ValidationError({"ends": _("An outage must end after it starts.")})


class Exclusion(RestrictedModel):
    """Time (``starts``–``ends``) or one case (``case_number``) that does not count against the vendor."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("Agreed maintenance window")
        CUSTOMER = "customer", _("Caused by the customer")
        FORCE_MAJEURE = "force_majeure", _("Force majeure")

    contract = models.ForeignKey(
        "contract.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(
        "core.Service",
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every service of the contract."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    starts = models.DateTimeField(_("starts"), null=True, blank=True)
    ends = models.DateTimeField(_("ends"), null=True, blank=True)
    case_number = models.CharField(_("case number"), max_length=30, blank=True)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("exclusion")
        verbose_name_plural = _("exclusions")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.case_number or self.starts}"

    def get_absolute_url(self) -> str:
        return reverse("reports:exclusion_list")

    def clean(self) -> None:
        if not self.case_number and not (self.starts and self.ends):
            raise ValidationError(_("Give a period (start and end) or a case number."))
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": _("The end must be after the start.")})
        if not (self.reason or "").strip():
            raise ValidationError({"reason": _("Say why.")})


class Statement(RestrictedModel):
    """The standardized compensation of one contract and month; ``inputs`` keeps every figure it was computed from."""

    contract = models.ForeignKey(
        "contract.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="statements"
    )
    month = models.DateField(_("month"))
    monthly_fee = models.DecimalField(_("monthly fee (NOK)"), max_digits=12, decimal_places=2)
    uncapped = models.DecimalField(_("uncapped credit (NOK)"), max_digits=12, decimal_places=2)
    capped = models.DecimalField(_("credit after caps (NOK)"), max_digits=12, decimal_places=2)
    adjustments = models.DecimalField(_("adjustments (NOK)"), max_digits=12, decimal_places=2, default=Decimal(0))
    total = models.DecimalField(_("credit owed (NOK)"), max_digits=12, decimal_places=2)
    inputs = models.JSONField(_("inputs"), default=dict)
    computed = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-month", "contract"]
        constraints = [models.UniqueConstraint(fields=["contract", "month"], name="reports_statement_unique")]

    def __str__(self) -> str:
        return f"{self.contract} {self.month:%m.%Y}"

    def get_absolute_url(self) -> str:
        return reverse("reports:statement_detail", args=[self.pk])

    @property
    def state(self) -> str:
        """``accepted`` when both parties accepted every line, ``disputed`` with an open dispute, else ``open``."""
        lines = list(self.lines.all())
        if any(line.disputes.filter(resolved_at__isnull=True).exists() for line in lines):
            return "disputed"
        if lines and all(line.customer_accepted and line.vendor_accepted for line in lines):
            return "accepted"
        return "open"


class StatementLine(RestrictedModel):
    """One level of the month: measured against target, and the credit it earns."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.CASCADE, related_name="lines"
    )
    key = models.CharField(_("key"), max_length=80)
    label = models.CharField(_("level"), max_length=300)
    measured = models.DecimalField(_("measured (%)"), max_digits=9, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("target (%)"), max_digits=9, decimal_places=4)
    missed = models.BooleanField(_("missed"), default=False)
    percent = models.DecimalField(_("credit (% of the fee)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("credit (NOK)"), max_digits=12, decimal_places=2)
    customer_accepted = models.BooleanField(_("accepted by the customer"), default=False)
    vendor_accepted = models.BooleanField(_("accepted by the vendor"), default=False)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "pk"]
        constraints = [models.UniqueConstraint(fields=["statement", "key"], name="reports_line_unique")]

    def __str__(self) -> str:
        return self.label


class Adjustment(RestrictedModel):
    """A manual change to a statement's credit (positive or negative NOK), with its reason and approver."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.CASCADE, related_name="adjustment_rows"
    )
    amount = models.DecimalField(_("amount (NOK)"), max_digits=12, decimal_places=2)
    reason = models.TextField(_("reason"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["created"]

    def __str__(self) -> str:
        return f"{self.amount} NOK"


class Dispute(RestrictedModel):
    """One party disputes a statement line; the other answers; it is resolved with a note (tracked to the end)."""

    class Party(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        VENDOR = "vendor", _("Vendor")

    line = models.ForeignKey(StatementLine, verbose_name=_("line"), on_delete=models.CASCADE, related_name="disputes")
    party = models.CharField(_("raised by party"), max_length=8, choices=Party.choices)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("raised by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.line}: {self.reason[:40]}"

    def get_absolute_url(self) -> str:
        return reverse("reports:statement_detail", args=[self.line.statement_id])


class MonthlyReport(RestrictedModel):
    """One version of a contract's monthly service report. Never changed once written (``save`` refuses)."""

    contract = models.ForeignKey(
        "contract.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"))
    version = models.PositiveIntegerField(_("version"))
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/%m/")
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64)
    xlsx = models.FileField(_("Excel"), upload_to="reports/%Y/%m/")
    xlsx_sha256 = models.CharField(_("Excel SHA-256"), max_length=64)
    figures = models.JSONField(_("figures"), default=dict)
    changes = models.JSONField(_("changes from the previous version"), default=list, blank=True)
    trigger = models.CharField(_("trigger"), max_length=10, default="manual")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month", "version"], name="reports_report_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.month:%m.%Y} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("reports:report_detail", args=[self.pk])

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("A stored report cannot change; regenerate it to make a new version."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A stored report cannot be deleted."))
