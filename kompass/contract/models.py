"""The contract requirements register: a contract, its milestones and the requirements of its specification."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kompass.core.models import RestrictedModel
from kompass.core.querysets import RestrictedQuerySet

__all__ = [
    "ApprovalProtocol",
    "Contract",
    "Evidence",
    "Milestone",
    "ProtocolApproval",
    "ProtocolEntry",
    "ProtocolLocked",
    "Requirement",
    "RequirementComment",
]

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

    def get_absolute_url(self) -> str:
        """Milestones are shown on their contract's page."""
        return reverse("contract:contract_detail", args=[self.contract_id])


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
        _("case number"), max_length=40, blank=True, help_text=_("The case number, e.g. KOM-2026-000042.")
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


# --- The approval protocol ------------------------------------------------------------------------------------


class ProtocolLocked(Exception):
    """A signed protocol, its approvals and its entries can never change."""


class ImmutableQuerySet(RestrictedQuerySet):
    """Bulk ``update()``/``delete()`` refuse as soon as one row belongs to a signed protocol."""

    def _touches_signed(self) -> bool:
        return self.filter(**{self.model.signed_lookup: "signed"}).exists()

    def update(self, **kwargs):
        if self._touches_signed():
            raise ProtocolLocked(_("A signed protocol cannot change."))
        return super().update(**kwargs)

    def delete(self):
        if self._touches_signed():
            raise ProtocolLocked(_("A signed protocol cannot change."))
        return super().delete()


class _Immutable(RestrictedModel):
    """Rows that are frozen once their protocol is signed: ``save`` and ``delete`` refuse, querysets too."""

    objects = ImmutableQuerySet.as_manager()
    signed_lookup = "protocol__status"

    class Meta:
        abstract = True

    def _frozen(self) -> bool:
        raise NotImplementedError

    def save(self, *args, **kwargs):
        if self._frozen():
            raise ProtocolLocked(_("A signed protocol cannot change."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._frozen():
            raise ProtocolLocked(_("A signed protocol cannot change."))
        return super().delete(*args, **kwargs)


class ApprovalProtocol(_Immutable):
    """One numbered version of the approval protocol for a contract's milestone (or the whole contract).

    A draft collects the parties' approvals; on the last one it becomes *signed*: the entries (each
    requirement's status at that moment), the PDF (PAdES-signed) and its SHA-256 are stored, and nothing
    about it may change again.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting approval")
        SIGNED = "signed", _("Signed")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="protocols"
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="contract/protocols/%Y/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)

    signed_lookup = "status"

    class Meta:
        verbose_name = _("approval protocol")
        verbose_name_plural = _("approval protocols")
        ordering = ["contract", "milestone", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "milestone", "version"], name="contract_protocol_version")
        ]

    def __str__(self) -> str:
        scope = self.milestone.name if self.milestone_id else _("whole contract")
        return f"{self.contract} – {scope} – v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("contract:protocol_detail", args=[self.pk])

    def _frozen(self) -> bool:
        if self.pk is None:
            return False
        stored = type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()
        return stored == self.Status.SIGNED

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class ProtocolApproval(_Immutable):
    """One party's approval: who, as which party, when; ``digest`` is the content they approved."""

    class Party(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        VENDOR = "vendor", _("Vendor")

    protocol = models.ForeignKey(
        ApprovalProtocol, verbose_name=_("protocol"), on_delete=models.PROTECT, related_name="approvals"
    )
    party = models.CharField(_("party"), max_length=10, choices=Party.choices)
    # SET_NULL: a deleted user's approval keeps the name it was given (users are normally deactivated).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    user_name = models.CharField(_("name"), max_length=200, blank=True)
    approved_at = models.DateTimeField(_("approved"), auto_now_add=True)
    digest = models.CharField(_("content digest"), max_length=64)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["protocol", "approved_at"]
        constraints = [models.UniqueConstraint(fields=["protocol", "party"], name="contract_approval_one_per_party")]

    def __str__(self) -> str:
        return f"{self.get_party_display()}: {self.user_name or self.user}"

    def _frozen(self) -> bool:
        return (
            self.protocol_id is not None
            and ApprovalProtocol._base_manager.filter(
                pk=self.protocol_id, status=ApprovalProtocol.Status.SIGNED
            ).exists()
        )


class ProtocolEntry(_Immutable):
    """A requirement as it stood when the protocol was signed (the snapshot)."""

    protocol = models.ForeignKey(
        ApprovalProtocol, verbose_name=_("protocol"), on_delete=models.PROTECT, related_name="entries"
    )
    source = models.ForeignKey(
        Requirement, verbose_name=_("requirement"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    position = models.PositiveIntegerField(_("position"))
    requirement_id = models.CharField(_("requirement ID"), max_length=40)
    chapter = models.CharField(_("chapter"), max_length=200, blank=True)
    text = models.TextField(_("requirement text"))
    status = models.CharField(_("status"), max_length=20, choices=Requirement.Status.choices)
    verification_method = models.CharField(
        _("verification method"), max_length=20, choices=Requirement.VerificationMethod.choices, blank=True
    )
    evidence = models.TextField(_("evidence"), blank=True)
    remediation = models.TextField(_("agreed remediation"), blank=True)
    remediation_due_on = models.DateField(_("remediation due"), null=True, blank=True)
    not_applicable_reason = models.TextField(_("reason not applicable"), blank=True)

    class Meta:
        verbose_name = _("protocol entry")
        verbose_name_plural = _("protocol entries")
        ordering = ["protocol", "position"]

    def __str__(self) -> str:
        return f"{self.requirement_id}: {self.get_status_display()}"

    def _frozen(self) -> bool:
        return (
            self.protocol_id is not None
            and ApprovalProtocol._base_manager.filter(
                pk=self.protocol_id, status=ApprovalProtocol.Status.SIGNED
            ).exists()
        )
