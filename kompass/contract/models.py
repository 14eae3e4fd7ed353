"""The contract requirements register: a contract, its milestones and the requirements of its specification."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kompass.core.models import RestrictedModel

__all__ = ["Contract", "Evidence", "Milestone", "Requirement", "RequirementComment"]

#: The lookup from a contract's rows to the vendor representatives the access matrix checks.
REPRESENTATIVES = "vendor_representatives"


class Contract(RestrictedModel):
    """An agreement with a vendor, e.g. the SSA-D operations contract, and the people on both sides."""

    class AgreementType(models.TextChoices):
        SSA_D = "ssa_d", _("SSA-D (operations)")
        SSA_V = "ssa_v", _("SSA-V (maintenance)")
        SSA_T = "ssa_t", _("SSA-T (development and delivery)")
        SSA_L = "ssa_l", _("SSA-L (software licence)")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    vendor_name = models.CharField(_("vendor"), max_length=200)
    agreement_type = models.CharField(
        _("agreement type"), max_length=10, choices=AgreementType.choices, default=AgreementType.SSA_D
    )
    signed_on = models.DateField(_("signed"), null=True, blank=True)
    takeover_on = models.DateField(_("operations takeover"), null=True, blank=True)
    establishment_ends_on = models.DateField(_("end of the establishment period"), null=True, blank=True)
    customer_representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer's representative"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",  # no reverse field on User (its audit would record it)
    )
    vendor_contact_name = models.CharField(_("vendor's representative (name)"), max_length=200, blank=True)
    vendor_representatives = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("vendor representatives"),
        blank=True,
        related_name="+",
        help_text=_("The vendor's people who sign in and see this contract's register."),
    )
    monthly_fee = models.DecimalField(_("monthly fee (NOK)"), max_digits=12, decimal_places=2, null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    agency_field = None  # an organisation-wide agreement

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contract:contract_detail", args=[self.pk])

    @property
    def import_scope(self) -> str:
        """The ``ImportBatch.scope`` of this contract's imports (the mapping is remembered per scope)."""
        return f"contract:{self.pk}"


class Milestone(RestrictedModel):
    """A date by which requirements must be verified: the takeover, the end of establishment, later ones."""

    class Kind(models.TextChoices):
        TAKEOVER = "takeover", _("Operations takeover")
        ESTABLISHMENT_END = "establishment_end", _("End of the establishment period")
        OTHER = "other", _("Other")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    due_on = models.DateField(_("due"))

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["contract", "due_on", "name"]
        constraints = [models.UniqueConstraint(fields=["contract", "name"], name="contract_milestone_unique_name")]

    def __str__(self) -> str:
        return self.name


class Requirement(RestrictedModel):
    """One requirement of the specification, identified by its ID exactly as written ("1.10" is not "1.1")."""

    class Kind(models.TextChoices):
        MANDATORY = "mandatory", _("Mandatory")
        EVALUATED = "evaluated", _("Evaluated")

    class VerificationMethod(models.TextChoices):
        DOCUMENT_REVIEW = "document_review", _("Document review")
        TEST = "test", _("Test")
        DEMONSTRATION = "demonstration", _("Demonstration")
        INSPECTION = "inspection", _("Inspection")
        MEASUREMENT = "measurement", _("Measurement")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        READY = "ready", _("Ready for verification")
        VERIFIED = "verified", _("Verified")
        APPROVED = "approved", _("Approved")
        DEVIATION = "deviation", _("Deviation")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="requirements"
    )
    requirement_id = models.CharField(_("requirement ID"), max_length=40)
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Order in the specification."))
    chapter = models.CharField(_("chapter"), max_length=200, blank=True)
    section = models.CharField(_("section"), max_length=200, blank=True)
    text = models.TextField(_("requirement text"))
    category = models.CharField(_("category"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MANDATORY)
    vendor_response = models.TextField(_("vendor's response"), blank=True)
    verification_method = models.CharField(
        _("verification method"), max_length=20, choices=VerificationMethod.choices, blank=True
    )
    milestone = models.ForeignKey(
        Milestone,
        verbose_name=_("milestone"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requirements",
    )
    customer_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner (customer)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    vendor_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner (vendor)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    remediation = models.TextField(_("agreed remediation"), blank=True)
    remediation_due_on = models.DateField(_("remediation due"), null=True, blank=True)
    not_applicable_reason = models.TextField(_("reason not applicable"), blank=True)
    withdrawn = models.BooleanField(
        _("withdrawn"), default=False, help_text=_("Removed from a revised specification; kept for its history.")
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("requirement")
        verbose_name_plural = _("requirements")
        ordering = ["contract", "position", "requirement_id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "requirement_id"], name="contract_requirement_unique_id")
        ]
        indexes = [models.Index(fields=["contract", "status"])]

    def __str__(self) -> str:
        return f"{self.requirement_id} {self.text[:60]}"

    def get_absolute_url(self) -> str:
        return reverse("contract:requirement_detail", args=[self.pk])


class Evidence(RestrictedModel):
    """What shows a requirement is met: a file, a link, or a case (by its case number)."""

    class Kind(models.TextChoices):
        FILE = "file", _("File")
        LINK = "link", _("Link")
        CASE = "case", _("Case")

    requirement = models.ForeignKey(
        Requirement, verbose_name=_("requirement"), on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="contract/evidence/%Y/%m/", blank=True)
    url = models.URLField(_("link"), blank=True)
    case_reference = models.CharField(
        _("case number"), max_length=40, blank=True, help_text=_("The case number, e.g. SAK-2026-00042.")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), on_delete=models.PROTECT, related_name="+"
    )
    added = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["requirement", "added"]

    def __str__(self) -> str:
        return self.title

    @property
    def reference(self) -> str:
        """The short reference the protocol prints: the file name, the link or the case number."""
        if self.kind == self.Kind.FILE:
            return self.file.name.rsplit("/", 1)[-1] if self.file else self.title
        if self.kind == self.Kind.LINK:
            return self.url
        return self.case_reference


class RequirementComment(RestrictedModel):
    """A comment on a requirement; status changes made with a comment leave one too."""

    requirement = models.ForeignKey(
        Requirement, verbose_name=_("requirement"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("comment"))
    status_from = models.CharField(_("status before"), max_length=20, choices=Requirement.Status.choices, blank=True)
    status_to = models.CharField(_("status after"), max_length=20, choices=Requirement.Status.choices, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["requirement", "created", "pk"]

    def __str__(self) -> str:
        return self.text[:60]
